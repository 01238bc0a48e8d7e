"""One paper style for every bioSNN figure: sizes, fonts, palette, and how figures are saved.

* Widths follow two-column journals: :data:`SINGLE_COLUMN` (3.5 in) and :data:`DOUBLE_COLUMN` (7.2 in).
* Fonts are 8 pt (7 pt ticks), so a figure saved at its nominal width is readable without scaling.
* Colours come from the Okabe-Ito palette (:data:`PALETTE`), distinguishable with the common forms of
  colour blindness; sequential maps are ``viridis``/``cividis``.
* :func:`save` writes vector PDF/SVG and 300 dpi PNG, atomically (a temporary file renamed into
  place), so an interrupted save never leaves half a figure.

Apply the style to your own figures with the :func:`style` context manager.

Example:
    >>> from bioSNN.plotting import style, new_figure
    >>> with style():
    ...     fig, ax = new_figure()
    ...     _ = ax.plot([0, 1], [0, 1])
    >>> float(fig.get_size_inches()[0])
    3.5
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Iterator, Sequence

from ..errors import InputError
from ..fileio import atomic_path

__all__ = ["PALETTE", "SINGLE_COLUMN", "DOUBLE_COLUMN", "RC", "style", "new_figure", "save", "FORMATS", "color",
           "group_colors", "image_axes"]

#: Okabe & Ito (2008) colour-blind-safe palette, black last.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
#: figure widths in inches
SINGLE_COLUMN = 3.5
DOUBLE_COLUMN = 7.2
#: file types :func:`save` writes (by suffix)
FORMATS = ("pdf", "svg", "png")
#: PNG resolution
DPI = 300

RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.0,
    "lines.markersize": 3,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "image.cmap": "viridis",
    "figure.dpi": 100,
    "savefig.dpi": DPI,
    "savefig.bbox": None,  # constrained layout already fits everything: files keep the nominal width
    "savefig.pad_inches": 0.02,
    "pdf.fonttype": 42,  # TrueType: text stays editable in Illustrator/Inkscape
    "ps.fonttype": 42,
    "svg.fonttype": "none",
    "svg.hashsalt": "bioSNN",  # stable element ids: the same figure gives the same SVG
}


def color(i: int) -> str:
    """The ``i``-th palette colour (cycling)."""
    return PALETTE[i % len(PALETTE)]


def group_colors(n: int) -> list[str]:
    """``n`` distinguishable colours for categories: the palette without its yellow (hard to see on
    white) up to 7, matplotlib's ``tab10`` up to 10, ``tab20`` beyond (cycling after 20)."""
    if n <= 7:
        return [c for c in PALETTE if c != "#F0E442"][:n]
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return [matplotlib.colors.to_hex(cmap(i % cmap.N)) for i in range(n)]


def image_axes(ax: Any) -> Any:
    """No ticks and no frame: for panels that show an image (the y label, if any, stays)."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    return ax


@contextlib.contextmanager
def style(**overrides: Any) -> Iterator[None]:
    """Context manager applying the bioSNN paper style (``overrides``: extra matplotlib rc settings).

    Example:
        >>> import matplotlib.pyplot as plt
        >>> with style(**{"font.size": 9}):
        ...     plt.rcParams["font.size"]
        9.0
    """
    import matplotlib
    from cycler import cycler

    rc = {**RC, "axes.prop_cycle": cycler(color=PALETTE), **overrides}
    with matplotlib.rc_context(rc):
        yield


def new_figure(nrows: int = 1, ncols: int = 1, *, width: float | str = "single", height: float | None = None,
               **subplot_kw: Any) -> tuple[Any, Any]:
    """A styled ``(Figure, Axes)`` pair not attached to pyplot (nothing shows, nothing leaks).

    ``width``: ``"single"``, ``"double"`` or inches; ``height`` defaults to 2.17 in per row plus
    0.3 in (at most 9 in). Extra keywords go to ``Figure.subplots`` (``sharex``, ``squeeze``, ...).
    """
    from matplotlib.figure import Figure

    w = {"single": SINGLE_COLUMN, "double": DOUBLE_COLUMN}.get(width, width) if isinstance(width, str) else width
    if isinstance(w, str):
        raise InputError(f"width must be 'single', 'double' or inches, got {width!r}")
    h = height if height is not None else min(0.62 * SINGLE_COLUMN * nrows + 0.3, 9.0)
    with style():
        fig = Figure(figsize=(w, h), layout="constrained")
        axes = fig.subplots(nrows, ncols, **subplot_kw)
    return fig, axes


def _figure_of(obj: Any) -> Any:
    fig = getattr(obj, "figure", None) if not hasattr(obj, "savefig") else obj
    if fig is None:
        raise InputError(f"cannot save {type(obj).__name__}: give a matplotlib Figure or Axes")
    return fig


def save(fig: Any, path: str | os.PathLike[str], *, formats: Sequence[str] | None = None) -> list[Path]:
    """Save ``fig`` (a Figure or Axes) atomically; returns the files written.

    With a suffix (``fig.pdf``, ``fig.svg``, ``fig.png``) that one file is written; without one, or
    with ``formats=("pdf", "png")``, one file per format next to ``path``. PNGs are 300 dpi.

    Example:
        >>> import tempfile
        >>> from bioSNN.plotting import new_figure, save
        >>> fig, ax = new_figure()
        >>> [p.suffix for p in save(fig, tempfile.mkdtemp() + "/panel", formats=("pdf", "png"))]
        ['.pdf', '.png']
    """
    fig = _figure_of(fig)
    path = Path(path)
    suffix = path.suffix.lstrip(".").lower()
    if formats is None:
        formats = (suffix,) if suffix else ("pdf", "png")
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise InputError(f"cannot save figures as {bad}: use one of {FORMATS}")
    stem = path.with_suffix("") if suffix in FORMATS else path
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    with style():
        for fmt in formats:
            target = stem.with_name(stem.name + "." + fmt)
            # no creation dates: the same figure gives the same vector file
            metadata = {"svg": {"Creator": "bioSNN", "Date": None},
                        "pdf": {"Creator": "bioSNN", "CreationDate": None}}.get(fmt)
            with atomic_path(target) as tmp:
                fig.savefig(tmp, format=fmt, dpi=DPI, metadata=metadata)
            written.append(target)
    return written
