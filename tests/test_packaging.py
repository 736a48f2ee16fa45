"""The two ways to install (pip from pyproject.toml, conda from environment.yml) agree."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_names_the_same_dependencies_as_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"]} | {
        _name(r) for r in project["optional-dependencies"]["dev"]
    }
    conda: set[str] = set()
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        item = line.split("#", 1)[0].strip()
        if item.startswith("- ") and not item.startswith(("- pip:", "- -e")):
            conda.add(_name(item[2:]))
    conda -= {"python", "pip"}
    assert conda == wanted


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [ln for ln in ci.splitlines() if ln.strip() and not ln.startswith("#")]
    assert commands[-1].strip() == "make test"
    readme = (ROOT / "README.md").read_text()
    head = readme[:1500]
    assert "make demo" in head
    assert "make test" in head


def test_schemas_ship_inside_the_package() -> None:
    from importlib import resources

    names = {p.name for p in resources.files("selfheal.schemas").iterdir()}
    assert {"patchtask.schema.json", "patchtask.original.schema.json"} <= names
