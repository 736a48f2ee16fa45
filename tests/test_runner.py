"""`selfheal run`: reports per run, the index, failures that still report, and no secrets."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from selfheal.cli import main
from selfheal.contracts import save_tasks
from selfheal.errors import ConfigError, InputError, NotebookError
from selfheal.models import Occurrence, PatchTask
from selfheal.reporting.index import Headline, NotebookRecord, RunRecord, render_index
from selfheal.runner import check_params, rebuild_index, run_notebooks

FAKE_GITHUB_TOKEN = "ghp_" + "F4keT0kenValue" * 3
FAKE_SENTRY_TOKEN = "sntrys_fakeSentryTokenValue0123456789"
LAST_WEEK_TASK = PatchTask(
    id="sentry-1",
    title="KeyError: 'sku'",
    area="backend",
    owner="shop",
    severity="high",
    frequency=3,
    last_seen="2026-01-01T00:00:00Z",
    fingerprint="abc123abc123abc1",
    source="sentry",
    severity_reasons=("test",),
    occurrences=(Occurrence("sentry", "1"),),
)


def write_notebook(
    folder: Path, name: str, *sources: str, params: str = 'out_dir: str = "out"  # out'
) -> None:
    nb = new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    cells = [new_markdown_cell(f"# {name}")]
    tagged = new_code_cell(params)
    tagged.metadata["tags"] = ["parameters"]
    cells.append(tagged)
    cells += [new_code_cell(s) for s in sources]
    nb.cells = cells
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(folder / f"{name}.ipynb"))


@pytest.fixture
def fake_tokens(monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    monkeypatch.setenv("GITHUB_TOKEN", FAKE_GITHUB_TOKEN)
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", FAKE_SENTRY_TOKEN)
    monkeypatch.delenv("BUGSINK_TOKEN", raising=False)
    return FAKE_GITHUB_TOKEN, FAKE_SENTRY_TOKEN


def all_text(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*")) if p.is_file())


@pytest.mark.slow
def test_a_failing_notebook_still_reports_the_cell_and_error_without_secrets(
    tmp_path: Path, fake_tokens: tuple[str, str]
) -> None:
    notebooks = tmp_path / "notebooks"
    write_notebook(notebooks, "01-ok", 'print("first notebook ran")')
    write_notebook(
        notebooks,
        "02-boom",
        "import os",
        'token = os.environ["GITHUB_TOKEN"]\nprint("using", token)',
        # The address is assembled at run time: only the error output holds it whole.
        'user = "alice" + "@" + "example.com"\n'
        'raise RuntimeError(f"upstream refused {token} for {user} <script>alert(1)</script>")',
    )
    write_notebook(notebooks, "03-after", 'print("never runs")')
    reports = tmp_path / "reports"

    with pytest.raises(NotebookError) as caught:
        run_notebooks(notebooks, reports, run_id="broken", out_dir=tmp_path / "out", cwd=tmp_path)

    error = caught.value
    assert error.exit_code == 4
    assert error.notebook == "02-boom"
    assert error.cell is not None
    assert "RuntimeError" in str(error)
    page = (reports / "broken" / "02-boom.html").read_text(encoding="utf-8")
    assert "RuntimeError" in page
    assert "failed</strong> at cell" in page
    assert "&lt;script&gt;alert(1)" in page
    assert "<script>alert(1)" not in page
    record = json.loads((reports / "broken" / "run.json").read_text(encoding="utf-8"))
    assert [n["status"] for n in record["notebooks"]] == ["ok", "failed", "skipped"]
    assert not (reports / "broken" / "03-after.html").exists()
    assert (reports / "broken" / "01-ok.html").is_file()
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert "broken" in index
    assert 'class="failed"' in index

    everything = all_text(reports) + str(error)
    for token in fake_tokens:
        assert token not in everything
    assert "alice@example.com" not in everything
    assert "[REDACTED" in page


@pytest.mark.slow  # a kernel per case
@pytest.mark.parametrize(
    ("stop", "why"),
    [("import time\ntime.sleep(60)", "CellTimeoutError"), ("import os\nos._exit(3)", "DeadKernelError")],
    ids=["cell-timeout", "dead-kernel"],
)
def test_a_notebook_stopped_by_a_timeout_or_a_dead_kernel_keeps_the_outputs_so_far(
    tmp_path: Path, stop: str, why: str
) -> None:
    """The executed notebook is written once at the end; a stop that is no cell error still
    leaves the cells that ran, with their outputs, in the report."""
    notebooks = tmp_path / "notebooks"
    write_notebook(notebooks, "01-stops", 'print("ran" + "-before-the-stop")', stop, 'print("never")')
    reports = tmp_path / "reports"
    with pytest.raises(NotebookError, match=why):
        run_notebooks(
            notebooks, reports, run_id="stopped", out_dir=tmp_path / "out", cwd=tmp_path, cell_timeout=1
        )
    executed = nbformat.read(str(reports / "stopped" / "01-stops.ipynb"), as_version=4)
    printed = ["".join(o.get("text", "")) for c in executed.cells if c.cell_type == "code" for o in c.outputs]
    assert "ran-before-the-stop\n" in printed
    assert "never\n" not in printed
    assert "ran-before-the-stop" in (reports / "stopped" / "01-stops.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_cli_run_takes_a_yaml_params_file_and_lists_runs_newest_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write_notebook(
        tmp_path / "notebooks",
        "01-greet",
        "print(greeting * times)",
        params=(
            'out_dir: str = "out"  # out\ngreeting: str = "hi"  # what to say\ntimes: int = 1  # how often'
        ),
    )
    params = tmp_path / "params.yaml"
    params.write_text("greeting: hello\ntimes: 2\n", encoding="utf-8")

    assert main(["run", "--params", str(params), "--run-id", "a-first"]) == 0
    assert main(["run", "--run-id", "b-second"]) == 0

    executed = nbformat.read(str(tmp_path / "reports" / "a-first" / "01-greet.ipynb"), as_version=4)
    assert executed.metadata["papermill"]["parameters"] == {"greeting": "hello", "times": 2, "out_dir": "out"}
    outputs = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "hellohello" in outputs
    index = (tmp_path / "reports" / "index.html").read_text(encoding="utf-8")
    assert index.index("b-second") < index.index("a-first")
    assert "greeting" in index
    assert "reports/index.html" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_run_exits_4_with_one_line_when_a_notebook_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write_notebook(tmp_path / "notebooks", "01-fail", "1 / 0")
    stale = save_tasks(tmp_path / "out" / "patchtasks.json", [LAST_WEEK_TASK])
    os.utime(stale, (time.time() - 7 * 86400, time.time() - 7 * 86400))

    assert main(["run", "--run-id", "x"]) == 4

    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("selfheal: error: notebook 01-fail")
    assert "ZeroDivisionError" in err[-1]
    assert (tmp_path / "reports" / "x" / "01-fail.html").is_file()
    record = json.loads((tmp_path / "reports" / "x" / "run.json").read_text(encoding="utf-8"))
    assert record["headline"]["tasks"] == 0, "last week's tasks are not this run's headline"


@pytest.mark.parametrize(
    ("case", "problem"),
    [
        (("github_token: abc\n", ".yaml"), "looks like a secret"),
        (('{"password": "hunter22"}', ".json"), "looks like a secret"),
        ((f"note: {FAKE_GITHUB_TOKEN}\n", ".yaml"), "value looks like a secret"),
        (("note: Bearer abcdefghijklmnopqrstuvwxyz012345\n", ".yml"), "value looks like a secret"),
    ],
)
def test_cli_run_refuses_secret_like_params(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: tuple[str, str],
    problem: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    content, suffix = case
    params = tmp_path / f"params{suffix}"
    params.write_text(content, encoding="utf-8")
    assert main(["run", "--params", str(params)]) == 2
    err = capsys.readouterr().err
    assert problem in err
    assert FAKE_GITHUB_TOKEN not in err
    assert not (tmp_path / "reports").exists()


@pytest.mark.slow
def test_notebooks_run_in_this_environment_even_if_another_python3_kernel_is_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "jupyter" / "kernels" / "python3"
    elsewhere.mkdir(parents=True)
    (elsewhere / "kernel.json").write_text(
        json.dumps(
            {
                "argv": ["/nonexistent/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "someone else's Python",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    write_notebook(tmp_path / "notebooks", "01-where", "import sys, selfheal\nprint(sys.executable)")

    result = run_notebooks(tmp_path / "notebooks", tmp_path / "reports", run_id="env", cwd=tmp_path)

    assert result.ok
    executed = nbformat.read(str(tmp_path / "reports" / "env" / "01-where.ipynb"), as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert printed.strip() == sys.executable


def test_out_dir_comes_from_the_option_not_the_params_file(tmp_path: Path) -> None:
    write_notebook(tmp_path / "notebooks", "01-x", "pass")
    with pytest.raises(ConfigError, match="--out"):
        run_notebooks(tmp_path / "notebooks", tmp_path / "reports", params={"out_dir": "elsewhere"})


def test_secret_values_from_the_environment_are_refused_whatever_their_shape() -> None:
    with pytest.raises(ConfigError):
        check_params({"note": "plainish-value-42"}, environ={"SENTRY_AUTH_TOKEN": "plainish-value-42"})
    check_params({"note": "plainish-value-42"}, environ={})


def test_cli_run_rejects_bad_params_files_and_run_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write_notebook(tmp_path / "notebooks", "01-x", "pass")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [unclosed\n", encoding="utf-8")
    assert main(["run", "--params", str(bad)]) == 2
    listy = tmp_path / "list.json"
    listy.write_text("[1, 2]", encoding="utf-8")
    assert main(["run", "--params", str(listy)]) == 2
    assert main(["run", "--run-id", "../escape"]) == 2
    assert main(["run", "--notebooks", str(tmp_path / "missing")]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line]
    assert len(lines) == 4
    assert all(line.startswith("selfheal: error: ") for line in lines)


def test_index_escapes_and_orders_runs(tmp_path: Path) -> None:
    hostile = RunRecord(
        run_id="r1",
        started="2026-01-01T00:00:00+00:00",
        finished="2026-01-01T00:01:00+00:00",
        params={"note": "<img src=x onerror=alert(1)>"},
        notebooks=(NotebookRecord("01-pull", "failed", html="01-pull.html", cell=3, error="<b>bad</b>"),),
        headline=Headline(tasks=2, events=7, by_severity={"blocker": 1, "low": 1}),
    )
    newer = RunRecord("r2", "2026-01-08T00:00:00+00:00", "", {}, (NotebookRecord("01-pull", "ok"),))
    page = render_index([hostile, newer])
    assert "<img" not in page
    assert "&lt;b&gt;bad&lt;/b&gt;" in page
    assert page.index("r2") < page.index("r1")
    assert "at cell 3" in page
    assert "<script" not in page

    for record in (hostile, newer):
        (tmp_path / record.run_id).mkdir()
        (tmp_path / record.run_id / "run.json").write_text(json.dumps(record.to_json()), encoding="utf-8")
    (tmp_path / "r3").mkdir()
    (tmp_path / "r3" / "run.json").write_text("{broken", encoding="utf-8")
    index = rebuild_index(tmp_path).read_text(encoding="utf-8")
    assert "r1" in index
    assert "r2" in index
    assert "2 run(s)" in index


def test_missing_notebooks_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        run_notebooks(tmp_path / "nowhere", tmp_path / "reports")
