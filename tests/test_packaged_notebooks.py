"""A repository that only installs selfheal (the weekly workflow) runs the packaged notebooks."""

from __future__ import annotations

from pathlib import Path

from selfheal.runner import default_notebooks_dir, find_notebooks, packaged_notebooks

ROOT = Path(__file__).resolve().parents[1]


def test_packaged_notebooks_are_the_repository_notebooks() -> None:
    packaged = {p.name: p.read_bytes() for p in find_notebooks(packaged_notebooks())}
    repository = {p.name: p.read_bytes() for p in find_notebooks(ROOT / "notebooks")}
    assert packaged == repository
    assert list(packaged) == [
        "01-pull.ipynb",
        "02-normalize.ipynb",
        "03-analyze.ipynb",
        "04-pull-requests.ipynb",
    ]


def test_a_folder_without_notebooks_uses_the_packaged_ones(tmp_path: Path) -> None:
    assert default_notebooks_dir(tmp_path) == packaged_notebooks()
    (tmp_path / "notebooks").mkdir()
    assert default_notebooks_dir(tmp_path) == packaged_notebooks()  # empty: still packaged
    own = tmp_path / "notebooks" / "01-mine.ipynb"
    own.write_text("{}")
    assert default_notebooks_dir(tmp_path) == tmp_path / "notebooks"
