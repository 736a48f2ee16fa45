"""The notebooks' interface, their thinness, stripped outputs, and a real run on the sample."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest

from selfheal import pipeline
from selfheal.contracts import contract_errors
from selfheal.errors import ConfigError
from selfheal.runner import SECRET_NAME, check_params, find_notebooks, run_notebooks

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

#: name -> type papermill infers, for every notebook, in run order.
EXPECTED_PARAMETERS: dict[str, dict[str, str]] = {
    "01-pull": {
        "source": "str",
        "out_dir": "str",
        "limit": "int",
        "projects": "list",
        "stats_period": "str",
        "since": "str",
    },
    "02-normalize": {
        "out_dir": "str",
        "sentry_export": "str",
        "playwright_report": "str",
        "junit_report": "str",
        "previous_tasks": "str",
        "min_frequency": "int",
    },
    "03-analyze": {"out_dir": "str", "top": "int", "duplicate_threshold": "float"},
    "04-pull-requests": {
        "out_dir": "str",
        "dry_run": "bool",
        "include_all": "bool",
        "max_new": "int",
        "config_root": "str",
    },
}
SECRET_ENV = ("SENTRY_AUTH_TOKEN", "GITHUB_TOKEN", "BUGSINK_TOKEN")


def read(name: str) -> Any:
    return nbformat.read(str(NOTEBOOKS / f"{name}.ipynb"), as_version=4)


def code_cells(name: str) -> list[Any]:
    return [c for c in read(name).cells if c.cell_type == "code"]


def test_the_notebooks_are_the_four_stages_in_run_order() -> None:
    assert [p.stem for p in find_notebooks(NOTEBOOKS)] == list(EXPECTED_PARAMETERS)


@pytest.mark.parametrize("name", list(EXPECTED_PARAMETERS))
def test_parameters_are_typed_and_documented_for_papermill(name: str) -> None:
    found = papermill.inspect_notebook(str(NOTEBOOKS / f"{name}.ipynb"))
    assert {k: v["inferred_type_name"] for k, v in found.items()} == EXPECTED_PARAMETERS[name]
    for param in found.values():
        assert param["help"].strip(), f"{name}: {param['name']} has no # help comment"


@pytest.mark.parametrize("name", list(EXPECTED_PARAMETERS))
def test_exactly_one_parameters_cell_of_literals(name: str) -> None:
    tagged = [c for c in code_cells(name) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    tree = ast.parse(tagged[0].source)
    for statement in tree.body:
        assert isinstance(statement, ast.AnnAssign), ast.dump(statement)
        assert statement.value is not None
        ast.literal_eval(statement.value)  # raises unless a literal
    for line in tagged[0].source.splitlines():
        assert "  # " in line, f"{name}: parameter line without help: {line!r}"


@pytest.mark.parametrize("name", list(EXPECTED_PARAMETERS))
def test_no_parameter_is_or_looks_like_a_secret(name: str) -> None:
    found = papermill.inspect_notebook(str(NOTEBOOKS / f"{name}.ipynb"))
    for param in found:
        assert not SECRET_NAME.search(param)
    defaults = {k: ast.literal_eval(v["default"]) for k, v in found.items()}
    check_params(defaults, environ={})


@pytest.mark.parametrize("name", list(EXPECTED_PARAMETERS))
def test_notebooks_are_thin_no_definitions_or_exception_handling(name: str) -> None:
    forbidden = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.Try, ast.Global)
    for cell in code_cells(name):
        for node in ast.walk(ast.parse(cell.source)):
            assert not isinstance(node, forbidden), f"{name}: {type(node).__name__} in a notebook"
    imports = {
        node.module or ""
        for cell in code_cells(name)
        for node in ast.walk(ast.parse(cell.source))
        if isinstance(node, ast.ImportFrom)
    }
    assert any(module.startswith("selfheal") for module in imports), "a notebook calls into selfheal"


@pytest.mark.parametrize("name", list(EXPECTED_PARAMETERS))
def test_committed_notebooks_have_no_outputs_and_keep_the_parameters_tag(name: str) -> None:
    raw = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))
    for cell in raw["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == []
            assert cell["execution_count"] is None
        assert set(cell.get("metadata", {})) <= {"tags"}
    assert "papermill" not in raw["metadata"]
    assert "widgets" not in raw["metadata"]
    assert sum("parameters" in c.get("metadata", {}).get("tags", []) for c in raw["cells"]) == 1


@pytest.mark.slow  # runs nbstripout
def test_nbstripout_drops_outputs_but_keeps_the_parameters_tag(tmp_path: Path) -> None:
    nb = read("03-analyze")
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.execution_count = 3
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="leak")]
    path = tmp_path / "03-analyze.ipynb"
    nbformat.write(nb, str(path))
    nbstripout = shutil.which("nbstripout", path=str(Path(sys.executable).parent))
    assert nbstripout is not None
    subprocess.run([nbstripout, str(path)], check=True, timeout=60)
    stripped = json.loads(path.read_text(encoding="utf-8"))
    assert all(c.get("outputs", []) == [] for c in stripped["cells"])
    assert sum("parameters" in c.get("metadata", {}).get("tags", []) for c in stripped["cells"]) == 1


def test_unknown_or_secret_parameters_are_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no notebook takes"):
        run_notebooks(NOTEBOOKS, tmp_path / "reports", params={"colour": "red"}, out_dir=tmp_path / "out")
    with pytest.raises(ConfigError, match="secret"):
        run_notebooks(NOTEBOOKS, tmp_path / "reports", params={"github_token": "x"}, out_dir=tmp_path / "out")
    assert not (tmp_path / "reports").exists()


@pytest.mark.slow
def test_every_notebook_runs_in_order_on_the_sample_with_the_packages_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in SECRET_ENV:
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "out"
    # Issue 13: the sample is read only when asked for by name (the defaults read the team's data).
    sample = {"source": "sample", "playwright_report": "sample", "junit_report": ""}
    result = run_notebooks(
        NOTEBOOKS, tmp_path / "reports", params=sample, run_id="sample", out_dir=out, cwd=ROOT
    )

    assert result.ok
    assert [nb.status for nb in result.record.notebooks] == ["ok"] * 4
    for name in EXPECTED_PARAMETERS:
        page = tmp_path / "reports" / "sample" / f"{name}.html"
        assert page.is_file()
        assert page.stat().st_size < 3_000_000, "a report stays under 3 MB"
        executed = nbformat.read(str(tmp_path / "reports" / "sample" / f"{name}.ipynb"), as_version=4)
        assert executed.metadata["papermill"]["parameters"]["out_dir"] == str(out)
    assert (tmp_path / "reports" / "index.html").is_file()
    assert (out / "pr_plan.json").is_file()

    # The same calls made directly (what the CLI does) give the same tasks.
    direct = tmp_path / "direct"
    pipeline.pull("sample", direct, progress=False)
    pipeline.normalize(
        direct,
        sentry=direct / "sentry_errors.json",
        playwright=pipeline.sample_path("playwright-report.json"),
        config_root=ROOT,
    )
    from_notebooks = json.loads((out / "patchtasks.json").read_text(encoding="utf-8"))
    assert from_notebooks == json.loads((direct / "patchtasks.json").read_text(encoding="utf-8"))
    assert from_notebooks
    assert all(contract_errors(task) == [] for task in from_notebooks)
    assert result.headline.tasks == len([t for t in from_notebooks if t["status"] != "resolved"])

    analyze = nbformat.read(str(tmp_path / "reports" / "sample" / "03-analyze.ipynb"), as_version=4)
    charts = [o for c in analyze.cells for o in c.get("outputs", []) if "image/svg+xml" in o.get("data", {})]
    assert len(charts) == 8
