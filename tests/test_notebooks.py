"""The notebooks' interface, their thinness and stripped outputs (the run on the sample is in
test_reports_browser.py, which opens the same run's reports in Chromium)."""

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
