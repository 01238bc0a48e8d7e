"""The ``biosnn`` command line.

Stages that exist so far:

* ``biosnn models`` lists the library of neuron models with their fingerprints;
* ``biosnn show MODEL`` prints a model as the JSON that artifacts store;
* ``biosnn verify [--model NAME ...]`` simulates each model in Brian2 and in the generated torch step
  on the same random input and reports how closely they agree (exit status 1 if they do not);
* ``biosnn encode --dataset ... --encoder ... --out FILE.npz`` turns images into spike trains;
* ``biosnn inspect FILE.npz`` summarises a spike-train file;
* ``biosnn export-seed FILE.npz --root DIR`` writes spike trains in the SAR seed project's layout;
* ``biosnn unsupervised --preset diehl_cook ... --out DIR`` trains an STDP network (resumable) and
  writes ``DIR/{network.npz,guidance.npz,config.json,metrics.json}``;
* ``biosnn supervised --dataset ... --guidance FILE --model ... --loss ... --out DIR`` trains a PyTorch
  network guided by membrane potentials (resumable) and writes ``DIR/{model.pt,checkpoint.pt,metrics.json}``;
* ``biosnn evaluate DIR --dataset ... --split test`` prints the accuracy of an unsupervised or
  supervised folder (and, for supervised ones, the confusion matrix);
* ``biosnn export-nir DIR --out FILE.nir`` writes a trained supervised network as a NIR graph;
* ``biosnn plot {membrane,raster,guidance,weights,curves,confusion,rates} ARTIFACT --out FILE`` draws a
  paper figure from those files;
* ``biosnn demo`` runs the whole pipeline on the shipped MNIST subset and draws every figure.

Errors about inputs and files print one line naming the problem and exit with status 2."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Sequence

from .. import __version__
from .common import _flag

__all__ = ["main", "build_parser", "COMMANDS"]


#: each subcommand -> (its module in this package, the function there that declares it). A command is
#: one module plus one line here; its options, and the libraries their choices import, are declared
#: only when that command runs (``biosnn --help`` imports neither torch nor Brian2).
COMMANDS: dict[str, tuple[str, str]] = {
    "models": ("models", "_models_parser"),
    "show": ("show", "_show_parser"),
    "verify": ("verify", "_verify_parser"),
    "encode": ("encode", "_encode_parser"),
    "inspect": ("inspect_file", "_inspect_parser"),
    "export-seed": ("export_seed", "_export_seed_parser"),
    "sample-guidance": ("sample_guidance", "_sample_guidance_parser"),
    "merge-guidance": ("sample_guidance", "_merge_guidance_parser"),
    "unsupervised": ("unsupervised", "_unsupervised_parser"),
    "supervised": ("supervised", "_supervised_parser"),
    "hybrid": ("hybrid", "_hybrid_parser"),
    "evaluate": ("evaluate", "_evaluate_parser"),
    "export-nir": ("export_nir", "_export_nir_parser"),
    "plot": ("plot", "_plot_parser"),
    "demo": ("demo", "_demo_parser"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``biosnn`` parser. With ``command``, only that subcommand gets its options (their choices
    import the library: torch, Brian2); the others are listed by name and help, so that ``biosnn
    --help`` and any one command start without importing what they do not use."""

    parser = argparse.ArgumentParser(
        prog="biosnn",
        description="bioSNN: one neuron-model definition drives Brian2 (STDP) and PyTorch (gradients).",
    )
    parser.add_argument("--version", action="version", version=f"bioSNN {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from importlib import import_module

    for name, (module, declare) in COMMANDS.items():
        getattr(import_module(f"{__name__}.{module}"), declare)(sub, command is None or command == name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)  # the subcommand comes first
    parser = build_parser(command or "")  # "": no subcommand's options (biosnn --help)
    args = parser.parse_args(argv)
    _show_library_log()
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    if getattr(args, "steps", 1) < 1:
        parser.error("--steps must be at least 1")
    from ..errors import DataError, InputError, ModelError, ModelMismatchError, OutputError, RunInterrupted

    for flag in ("T", "limit", "chunk_size", "n_neurons", "n_train", "n_assign", "guidance_per_class", "slice",
                 "epochs", "batch_size", "population", "test_limit", "draws", "labelled", "stride"):
        value = getattr(args, flag, None)
        if value is not None and value < 1:
            parser.error(f"{_flag(flag)} must be at least 1")
    try:
        return int(args.func(args))
    except KeyError as exc:
        parser.error(str(exc.args[0]) if exc.args else str(exc))
    except (DataError, InputError, ModelError, ModelMismatchError, OutputError) as exc:
        print(f"biosnn: error: {exc}", file=sys.stderr)
    except RunInterrupted as exc:
        from ..interrupts import EXIT_INTERRUPTED

        print(f"biosnn: interrupted: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # output piped into `head` and the like
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # any other file-system failure: one line naming the file, not a traceback
        print(f"biosnn: error: {_describe_os_error(exc)}", file=sys.stderr)
    return 2


class _Stderr(logging.StreamHandler):
    """A handler writing to whatever ``sys.stderr`` is when a message comes (tests swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _show_library_log() -> None:
    """The command line is an application: it shows the library's INFO messages (per-epoch records,
    notices) on stderr, once, unless the caller configured the ``bioSNN`` logger already."""
    log = logging.getLogger("bioSNN")
    if not log.handlers:
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)


def _describe_os_error(exc: OSError) -> str:
    """``PATH: reason`` of a file-system failure (both paths of a failed rename)."""
    where = " -> ".join(str(f) for f in (exc.filename, getattr(exc, "filename2", None)) if f is not None)
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{where}: {reason}" if where else reason
