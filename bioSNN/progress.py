"""Progress bars for long work: tqdm when enabled, a silent stand-in otherwise (one place for both)."""

from __future__ import annotations

from typing import Any

__all__ = ["progress_bar"]


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> "_Silent":
        return self

    def __exit__(self, *exc: Any) -> None:
        pass


def progress_bar(total: int, desc: str, unit: str, *, enabled: bool = True, initial: int = 0) -> Any:
    """A tqdm bar (items per second shown) when ``enabled``, else an object with the same
    ``update``/``close``/context-manager interface that prints nothing.

    Example:
        >>> with progress_bar(3, "work", "item", enabled=False) as bar:
        ...     bar.update(3)
    """
    if not enabled:
        return _Silent()
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit=unit, desc=desc)
