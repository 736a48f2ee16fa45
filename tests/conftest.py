"""Shared test helpers: fixture paths and tiny builders. No patching of selfheal's own code."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from selfheal.lean_imports import skip_slow_optional_modules

# Like the selfheal command (whose main() the CLI tests call in this process): skip the optional
# import that costs every test process seconds (see selfheal/lean_imports.py).
skip_slow_optional_modules()

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def _shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder for the whole session (every xdist worker and child process), never ~/.cache."""
    return tmp_path_factory.getbasetemp().parent / "xdg-cache"


@pytest.fixture(autouse=True)
def _no_real_credentials(monkeypatch: pytest.MonkeyPatch, _shared_cache: Path) -> None:
    """Tests never see the developer's real tokens or service settings (kernels inherit os.environ)."""
    for name in list(os.environ):
        if name.startswith(("SENTRY_", "GITHUB_", "BUGSINK_", "SELFHEAL_")):
            monkeypatch.delenv(name)
    # The fake GitHub needs none of the spacing GitHub asks for (1 s between writes): tests of
    # the pace itself set it back. Subprocesses and notebook kernels inherit this.
    monkeypatch.setenv("SELFHEAL_GITHUB_PACE", "0")
    # What the reports keep between runs (the Vega JavaScript) goes to the session's folder.
    monkeypatch.setenv("XDG_CACHE_HOME", str(_shared_cache))


@dataclass(frozen=True, slots=True)
class CliResult:
    """What one `selfheal` invocation printed and returned (the shape of ``subprocess.CompletedProcess``)."""

    returncode: int
    stdout: str
    stderr: str


class CliRunner(Protocol):
    def __call__(
        self, *argv: str, cwd: Path | None = None, env: Mapping[str, str] | None = None
    ) -> CliResult: ...


_RESTORED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def invoke_cli(*argv: str, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> int:
    """Call ``selfheal.cli.main(argv)`` in this process, as ``python -m selfheal`` would run in a child.

    ``cwd`` and ``env`` (the whole environment, as for ``subprocess.run``) apply for the call only.
    The SIGINT/SIGTERM handlers and stamina's retry hooks are put back after the call, so one
    command cannot leave global state behind for the next test.
    """
    from selfheal.cli import main

    handlers = {sig: signal.getsignal(sig) for sig in _RESTORED_SIGNALS}
    instrumentation = sys.modules.get("stamina.instrumentation")
    hooks = list(instrumentation.get_on_retry_hooks()) if instrumentation else None
    with pytest.MonkeyPatch.context() as scoped:
        if cwd is not None:
            scoped.chdir(cwd)
        if env is not None:
            for name in [n for n in os.environ if n not in env]:
                scoped.delenv(name)
            for name, value in env.items():
                scoped.setenv(name, value)
        try:
            return main(list(argv))
        except SystemExit as exc:  # argparse's --help and usage errors exit like the process would
            return exc.code if isinstance(exc.code, int) else 1
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            if hooks is not None:
                sys.modules["stamina.instrumentation"].set_on_retry_hooks(hooks)


@pytest.fixture
def run_cli(capfd: pytest.CaptureFixture[str]) -> CliRunner:
    """:func:`invoke_cli` with what the command printed, captured at the file-descriptor level."""

    def run(*argv: str, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> CliResult:
        capfd.readouterr()  # drop what the test printed before
        code = invoke_cli(*argv, cwd=cwd, env=env)
        captured = capfd.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def _weight(item: pytest.Item) -> int:
    """2: a slow test on a module fixture (its file builds something expensive once); 1: a
    slow test; 0: the rest."""
    if item.get_closest_marker("slow") is None:
        return 0
    info = getattr(item, "_fixtureinfo", None)
    definitions = info.name2fixturedefs.values() if info is not None else ()
    return 2 if any(d.scope == "module" for defs in definitions for d in defs) else 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files with slow tests first (those on a module fixture before the others), each
    file's own order unchanged.

    With ``--dist loadfile`` a worker takes a file whole, as the files come; a long file sent
    last leaves the other core idle while it runs. Sending the long ones first (the
    longest-job-first rule) keeps both cores busy to the end. Every worker sorts the same way.
    """
    weight: dict[Path, int] = {}
    for item in items:
        weight[item.path] = max(weight.get(item.path, 0), _weight(item))
    items.sort(key=lambda item: -weight[item.path])
