"""The GitHub Actions workflow that runs selfheal every week, and writing it into a repository.

One source: the template ``selfheal/data/workflow/self-healing.yml`` shipped in the package.
It has two placeholders, filled by :func:`render_workflow`:

- ``@install_spec@`` — what ``pip install`` installs in CI: a pinned release
  (``selfheal==0.1.0``, the default, pinned to the version writing the file), a git URL
  (``selfheal @ git+https://github.com/org/selfheal@v0.1.0``), or ``.`` for a checkout of
  selfheal itself (this repository's own ``.github/workflows/self-healing.yml``);
- ``@workflow_path@`` — the workflow file's path in the repository, the pip cache key.

:func:`write_workflow` writes the result atomically and refuses to replace a different file
unless ``force`` is given.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath

from selfheal import __version__
from selfheal.errors import ConfigError, InputError
from selfheal.storage import write_text

__all__ = [
    "DEFAULT_INSTALL_SPEC",
    "DEFAULT_WORKFLOW_PATH",
    "WorkflowWrite",
    "read_template",
    "render_workflow",
    "repository_root",
    "workflow_target",
    "write_workflow",
]

DEFAULT_WORKFLOW_PATH = PurePosixPath(".github/workflows/self-healing.yml")
#: Users' CI installs exactly the release that wrote their workflow.
DEFAULT_INSTALL_SPEC = f"selfheal=={__version__}"

_INSTALL_SPEC_PLACEHOLDER = '"@install_spec@"'
_WORKFLOW_PATH_PLACEHOLDER = '"@workflow_path@"'
#: Characters that could break out of the YAML string or smuggle in a GitHub expression.
_FORBIDDEN_IN_SPEC = ('"', "\\", "${{", "\n", "\r", "\t")


@dataclass(frozen=True, slots=True)
class WorkflowWrite:
    """What :func:`write_workflow` did: ``created``, ``replaced`` or ``unchanged``."""

    path: Path
    outcome: str
    install_spec: str


def read_template() -> str:
    """The workflow template shipped in the package (with its placeholders)."""
    template = resources.files("selfheal.data").joinpath("workflow", "self-healing.yml")
    return template.read_text(encoding="utf-8")


def _yaml_string(value: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar.
    return json.dumps(value, ensure_ascii=False)


def _check_install_spec(install_spec: str) -> str:
    spec = install_spec.strip()
    if not spec:
        raise ConfigError("--install-spec", "must not be empty (example: selfheal==0.1.0)")
    for bad in _FORBIDDEN_IN_SPEC:
        if bad in spec:
            problem = f"must be one pip requirement without {bad!r}, got {spec!r}"
            raise ConfigError("--install-spec", problem)
    return spec


def render_workflow(
    *,
    install_spec: str = DEFAULT_INSTALL_SPEC,
    workflow_path: str | PurePosixPath = DEFAULT_WORKFLOW_PATH,
) -> str:
    """The workflow text with ``install_spec`` and ``workflow_path`` filled in."""
    spec = _check_install_spec(install_spec)
    path = PurePosixPath(workflow_path)
    if path.is_absolute() or ".." in path.parts:
        raise ConfigError("--path", f"must be a path inside the repository, got {str(path)!r}")
    text = read_template()
    if _INSTALL_SPEC_PLACEHOLDER not in text or _WORKFLOW_PATH_PLACEHOLDER not in text:
        raise ConfigError("workflow template", "placeholders are missing (the package is damaged)")
    return text.replace(_INSTALL_SPEC_PLACEHOLDER, _yaml_string(spec)).replace(
        _WORKFLOW_PATH_PLACEHOLDER, _yaml_string(str(path))
    )


def repository_root(start: str | Path | None = None) -> Path:
    """The git repository holding ``start`` (default: the current folder), else that folder."""
    here = (Path(start) if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return here


def workflow_target(path: str | Path | None = None, *, cwd: str | Path | None = None) -> Path:
    """Where ``init-workflow`` writes: a relative ``path`` (default
    :data:`DEFAULT_WORKFLOW_PATH`) is taken from the git root, whatever sub-folder runs it."""
    given = Path(path) if path is not None else Path(DEFAULT_WORKFLOW_PATH)
    return given if given.is_absolute() else repository_root(cwd) / given


def _path_in_repository(target: Path) -> PurePosixPath:
    """``target`` as GitHub sees it: from ``.github/`` on, else relative to the git root or cwd."""
    absolute = target.resolve()
    parts = absolute.parts
    for index in range(len(parts) - 1, 0, -1):
        if parts[index] == ".github":
            return PurePosixPath(*parts[index:])
    for folder in absolute.parents:
        if (folder / ".git").exists():
            return PurePosixPath(absolute.relative_to(folder).as_posix())
    try:
        return PurePosixPath(absolute.relative_to(Path.cwd().resolve()).as_posix())
    except ValueError:
        problem = f"{target} is outside the current folder and not in a git repository"
        raise ConfigError("--path", problem) from None


def write_workflow(
    path: str | Path = Path(DEFAULT_WORKFLOW_PATH),
    *,
    install_spec: str = DEFAULT_INSTALL_SPEC,
    force: bool = False,
) -> WorkflowWrite:
    """Write the workflow to ``path`` atomically; replace a different file only with ``force``."""
    target = Path(path)
    text = render_workflow(install_spec=install_spec, workflow_path=_path_in_repository(target))
    spec = _check_install_spec(install_spec)
    if target.is_dir():
        raise InputError(target, f"is a directory, not a file like {DEFAULT_WORKFLOW_PATH}")
    if target.exists():
        try:
            current = target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            current = None
        if current == text:
            return WorkflowWrite(target, "unchanged", spec)
        if not force:
            raise InputError(target, "already exists and differs; pass --force to overwrite it")
        write_text(target, text)
        return WorkflowWrite(target, "replaced", spec)
    write_text(target, text)
    return WorkflowWrite(target, "created", spec)
