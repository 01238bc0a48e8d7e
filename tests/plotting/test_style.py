"""The paper style: sizes, palette, atomic saving in every format."""

import matplotlib
import pytest

from bioSNN.errors import InputError
from bioSNN.plotting import PALETTE, SINGLE_COLUMN, new_figure, save, style


@pytest.mark.parametrize("suffix,magic", [("png", b"\x89PNG"), ("pdf", b"%PDF"), ("svg", b"<?xml")])
def test_save_writes_the_format_of_the_suffix_atomically(tmp_path, suffix, magic):
    fig, ax = new_figure()
    ax.plot([0, 1], [1, 0])
    (path,) = save(fig, tmp_path / f"f.{suffix}")
    assert path.read_bytes().startswith(magic)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"f.{suffix}"]  # no temporary file left


def test_save_without_suffix_writes_pdf_and_300_dpi_png(tmp_path):
    from PIL import Image

    fig, ax = new_figure()
    written = save(ax, tmp_path / "panel")  # an Axes works too
    assert [p.name for p in written] == ["panel.pdf", "panel.png"]
    dpi = Image.open(tmp_path / "panel.png").info["dpi"]
    assert round(dpi[0]) == 300
    with pytest.raises(InputError, match="cannot save figures as"):
        save(fig, tmp_path / "x", formats=("jpg",))


def test_vector_output_is_reproducible(tmp_path):
    for name in ("a", "b"):
        fig, ax = new_figure()
        ax.plot([0, 1, 2], [2, 0, 1])
        save(fig, tmp_path / f"{name}.svg")
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()


def test_style_context_sets_and_restores_settings():
    before = matplotlib.rcParams["font.size"]
    with style(**{"lines.linewidth": 2.5}):
        assert matplotlib.rcParams["font.size"] == 8
        assert matplotlib.rcParams["lines.linewidth"] == 2.5
        assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"] == list(PALETTE)
    assert matplotlib.rcParams["font.size"] == before


def test_figure_widths():
    assert new_figure()[0].get_size_inches()[0] == SINGLE_COLUMN
    assert new_figure(width="double")[0].get_size_inches()[0] == 7.2
    assert new_figure(width=5.0)[0].get_size_inches()[0] == 5.0
    with pytest.raises(InputError, match="width"):
        new_figure(width="huge")
