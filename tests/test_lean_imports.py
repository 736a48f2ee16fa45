"""The processes selfheal owns skip rfc3987_syntax, an optional import of jsonschema that costs
seconds in every process (it compiles an Earley grammar at import), and still check dates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from test_runner import write_notebook

from selfheal.runner import run_notebooks

_PROBE = """\
import sys, jsonschema
print("loaded" if sys.modules.get("rfc3987_syntax") else "skipped")
dates = jsonschema.Draft7Validator({"format": "date-time"}, format_checker=jsonschema.FormatChecker())
print(dates.is_valid("2026-12-02T10:00:00Z"), dates.is_valid("last tuesday"))
print([name for name in dir() if not name.startswith("__") and name != "out_dir"])
"""


@pytest.mark.slow  # starts a notebook kernel
def test_the_kernels_the_runner_starts_skip_it_and_leave_no_name_behind(tmp_path: Path) -> None:
    notebooks = tmp_path / "notebooks"
    write_notebook(notebooks, "01-probe", _PROBE)
    result = run_notebooks(notebooks, tmp_path / "reports", run_id="lean", cwd=tmp_path)
    assert result.ok
    executed = nbformat.read(str(tmp_path / "reports" / "lean" / "01-probe.ipynb"), as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    lines = printed.splitlines()
    assert lines[:2] == ["skipped", "True False"]
    assert "lean" not in lines[2], lines[2]
    assert "skip" not in lines[2], lines[2]


def _run(code: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.splitlines()


@pytest.mark.slow  # two Python processes
def test_the_selfheal_command_skips_it_but_a_program_importing_selfheal_keeps_it() -> None:
    assert _run(f"import selfheal\n{_PROBE}")[0] == "loaded"  # installed here, so the check can fail
    command = (
        "import contextlib, io\n"
        "from selfheal.cli import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['normalize', '--help'])\n"
    )
    lines = _run(command + _PROBE)
    assert lines[:2] == ["skipped", "True False"]
