"""The project root: where ``out/`` and ``reports/`` live, wherever the code runs from.

The CLI runs from the repository's top folder, papermill runs the notebooks there, but
JupyterLab starts each kernel in the notebook's own folder (``notebooks/``). So relative
output folders are resolved from the *project root*, never from the current folder:

1. ``SELFHEAL_PROJECT_ROOT`` when set (an absolute path, or relative to the current folder);
2. else the nearest folder, from the current one upwards, holding ``selfheal.toml``,
   ``pyproject.toml`` or ``.git``;
3. else the current folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["PROJECT_MARKERS", "PROJECT_ROOT_ENV", "in_project", "project_root", "relative_to_project"]

PROJECT_ROOT_ENV = "SELFHEAL_PROJECT_ROOT"
PROJECT_MARKERS = ("selfheal.toml", "pyproject.toml", ".git")


def project_root(start: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """The project root (absolute) for code running in ``start`` (default: the current folder)."""
    env = os.environ if environ is None else environ
    here = Path(start) if start is not None else Path.cwd()
    explicit = env.get(PROJECT_ROOT_ENV, "").strip()
    if explicit:
        return (here / explicit).resolve()
    here = here.resolve()
    for folder in (here, *here.parents):
        if any((folder / marker).exists() for marker in PROJECT_MARKERS):
            return folder
    return here


def in_project(path: str | Path, environ: Mapping[str, str] | None = None) -> Path:
    """``path`` itself when absolute, else the same path under the project root."""
    given = Path(path)
    return given if given.is_absolute() else project_root(environ=environ) / given


def relative_to_project(path: str | Path, environ: Mapping[str, str] | None = None) -> str:
    """``path`` as the project sees it (``out/patchtasks.json``), absolute only outside the project."""
    given = Path(path)
    if not given.is_absolute():
        return given.as_posix()
    try:
        return given.resolve().relative_to(project_root(environ=environ)).as_posix()
    except ValueError:
        return given.as_posix()
