"""Exceptions raised by bioSNN.

Every error names the model, file, statement or argument at fault so that a user can act on it. All
derive from :class:`ValueError`, so ``except ValueError`` still catches them.
"""

from __future__ import annotations

__all__ = ["ModelError", "InputError", "DataError", "MissingDataError", "OutputError", "ModelMismatchError", "RunFolderError",
           "RunLockedError", "RunInterrupted",
           "NIRError", "NIRFormatError", "UnsupportedNIRError", "NIRShapeError"]


class ModelError(ValueError):
    """A :class:`~bioSNN.equations.NeuronModel` is malformed (unknown variable, missing or
    dimensionally wrong parameter, equations that the chosen method cannot integrate, ...)."""


class InputError(ValueError):
    """Arguments are unusable (shape, dtype, NaN, negative intensities, non-positive ``dt`` or ``T``)."""


class DataError(InputError):
    """A data file or folder is missing, truncated or corrupt (bad magic number, checksum mismatch,
    missing header field, mixed image sizes). The message names the file."""


class MissingDataError(DataError):
    """A data file or split folder that is not there (as opposed to one that is there and unreadable)."""


class OutputError(ValueError, OSError):
    """A file or folder cannot be written: read-only or full disk, no permission, or an output path
    that names a folder where a file is expected (or the reverse). The message names the path. Also an
    :class:`OSError`, so ``except OSError`` still catches the file-system failure it replaces."""


class ModelMismatchError(ValueError):
    """Two artifacts were produced with different neuron models or time steps."""


class RunFolderError(InputError):
    """An output folder cannot take this run: it holds another run (give ``--resume`` or
    ``--overwrite``), or ``--resume`` asks for settings that differ from the run recorded there. The
    message names the folder."""


class RunLockedError(RunFolderError):
    """Another live process is writing into the output folder (its ``.lock`` file names the process
    and host)."""


class RunInterrupted(RuntimeError):
    """A run stopped on SIGINT/SIGTERM at a safe point, after writing its checkpoint (if it has one);
    the message says how to resume (:mod:`bioSNN.interrupts`)."""


class NIRError(InputError):
    """A NIR graph (Neuromorphic Intermediate Representation, :mod:`bioSNN.nir`) cannot be exported,
    read or run; the subclasses say why. The message names the node at fault."""


class NIRFormatError(NIRError, DataError):
    """A ``.nir`` file is missing, truncated or not a NIR graph (the message names the file)."""


class UnsupportedNIRError(NIRError):
    """A node, a model or a graph shape that NIR (on export) or bioSNN (on import) cannot express:
    the message names the node and what is missing (refractoriness, a recurrent edge, a node type)."""


class NIRShapeError(NIRError):
    """A NIR node's parameter has the wrong shape for the node (or for the nodes it is joined to)."""
