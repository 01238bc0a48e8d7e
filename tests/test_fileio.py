"""Atomic writes: readers see the old file or the complete new one, never a partial one."""

import os

import pytest

from bioSNN.fileio import atomic_path, atomic_write_json, atomic_write_text


def test_replaces_and_sets_usual_permissions(tmp_path):
    target = tmp_path / "a.txt"
    atomic_write_text(target, "one")
    atomic_write_json(target, {"x": 1})
    assert target.read_text().strip().startswith("{")
    mask = os.umask(0); os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask


def test_failure_keeps_old_file_and_removes_temp(tmp_path):
    target = tmp_path / "a.txt"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]
