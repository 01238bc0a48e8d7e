"""Stop a long run at its next safe point on SIGINT (Ctrl+C) or SIGTERM, after a checkpoint.

Inside :func:`stop_requests` the two signals only *request* a stop: the trainer finishes the unit it
is in (a Diehl & Cook slice, a WTA chunk, a supervised optimizer step), writes its checkpoint and
raises :class:`~bioSNN.errors.RunInterrupted` (the CLI exits with status 130). Resuming from that
checkpoint gives exactly the result of an uninterrupted run. A second Ctrl+C aborts at once
(``KeyboardInterrupt``); the last checkpoint on disk stays intact (atomic writes).

Brian2 turns Ctrl+C during ``Network.run`` into "stop this run()": a loop that runs in slices would then
start the next slice with part of the last one missing. While a :func:`stop_requests` block is active,
its handler replaces Brian2's, so a simulated slice always completes. The previous handlers are
restored when the block ends; outside the main thread (where Python cannot install handlers) the block
does nothing.

Example:
    >>> with stop_requests() as stop:
    ...     for step in range(3):
    ...         stop.check("after step", "resume with --resume")   # raises RunInterrupted once requested
    >>> bool(stop)
    False
"""

from __future__ import annotations

import logging
import signal
import threading
from contextlib import contextmanager
from typing import Any, Iterator

from .errors import RunInterrupted

__all__ = ["StopRequest", "stop_requests", "resume_hint", "EXIT_INTERRUPTED"]

logger = logging.getLogger(__name__)

#: Exit status of a command stopped by SIGINT/SIGTERM (128 + SIGINT, the shell convention).
EXIT_INTERRUPTED = 130


class StopRequest:
    """Whether a stop was requested (truthy), and by which signal (:attr:`signal`)."""

    def __init__(self) -> None:
        self.signal: str | None = None

    def __bool__(self) -> bool:
        return self.signal is not None

    def request(self, name: str) -> None:
        """Request a stop as if signal ``name`` had arrived (also for tests)."""
        self.signal = name

    def check(self, where: str, how_to_resume: str) -> None:
        """Raise :class:`RunInterrupted` if a stop was requested; call it right after a checkpoint."""
        if self.signal is not None:
            raise RunInterrupted(f"{self.signal} received: stopped {where}; {how_to_resume}")


def resume_hint(checkpoint: Any) -> str:
    """How to go on after a stop, for a trainer whose checkpoint file is ``checkpoint`` (or ``None``)."""
    if checkpoint is None:
        return "no checkpoint was asked for, so training must start again"
    return f"continue with --resume (checkpoint {checkpoint})"


@contextmanager
def stop_requests(signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)) -> Iterator[StopRequest]:
    """Turn ``signals`` into a :class:`StopRequest` for the duration of the block (see module docstring)."""
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if stop.signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # second Ctrl+C: abort now
        stop.signal = name
        logger.warning("%s received: stopping after the current step's checkpoint (Ctrl+C again aborts now)", name)

    previous = {s: signal.getsignal(s) for s in signals}
    for s in signals:
        signal.signal(s, handler)
    try:
        yield stop
    finally:
        for s, h in previous.items():
            signal.signal(s, h if h is not None else signal.SIG_DFL)
