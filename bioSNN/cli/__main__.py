"""``python -m bioSNN.cli`` (also under torchrun): the ``biosnn`` command."""

from . import main

raise SystemExit(main())
