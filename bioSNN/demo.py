"""The one-command demo (``biosnn demo``), importable from the library side: it lives in
:mod:`bioSNN.cli.demo`, since it drives the command line's own commands (one direction only: the
command line never imports this module).
"""

from .cli.demo import FIGURE_NAMES, DemoConfig, figure_commands, run_demo

__all__ = ["FIGURE_NAMES", "DemoConfig", "figure_commands", "run_demo"]
