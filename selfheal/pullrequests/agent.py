"""Run a coding agent on one PR's task in a temporary git worktree, and judge what it changed.

:class:`AgentRunner` is the I/O half of the "proposed fix" step (the pure half, what to run and
what to write, is :mod:`selfheal.pullrequests.proposal`). For one task it

1. adds a detached ``git worktree`` of the target repository (the checkout selfheal runs in) at
   the PR's base commit, writes the task file there and commits it locally, so the worktree has
   the PR branch's content;
2. runs the configured command in it (``{task_file}`` replaced by the task file's path, the
   task JSON on stdin) with a clean environment: only ``PATH``, ``HOME``, locale and the names
   listed in ``agent.env``; never ``GITHUB_TOKEN``, ``SENTRY_AUTH_TOKEN``, ``BUGSINK_TOKEN``
   unless listed. The process runs in its own process group, which is killed on timeout;
3. refuses changes outside the worktree (writes next to it, into the target checkout, symlinks
   pointing out), to ``.github/``, ``.git``, the task file, or a protected glob;
4. runs the test command in the worktree (same environment, its own time limit);
5. returns an :class:`~selfheal.pullrequests.proposal.AgentResult` with the changed files' bytes,
   a diff stat, the test verdict and scrubbed output tails. Committing them on the PR branch is
   the caller's job (through the GitHub API, :class:`FixPublisher`).

:class:`ProposedFixStep` then commits an accepted change on the PR branch and writes the
"Proposed fix" section, through a :class:`FixPublisher` (the GitHub gateway). The worktree and
its temporary folder are removed afterwards, whatever happened. Writes an
agent makes elsewhere on the machine cannot be seen from here: run real agents in a sandbox
(docs/agent.md).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import IO, Any, Protocol

from selfheal.config import AgentConfig
from selfheal.errors import ConfigError
from selfheal.models import PatchTask
from selfheal.pullrequests.plan import PrDecision
from selfheal.pullrequests.proposal import (
    MAX_SUMMARY_CHARS,
    TESTS_FAILING_LABEL,
    AgentResult,
    DiffStat,
    FileChange,
    Outcome,
    Verdict,
    clean_output,
    evidence_digest,
    fix_commit_message,
    fix_section,
    with_fix_section,
    without_fix_section,
)
from selfheal.pullrequests.render import (
    MAX_BODY_CHARS,
    LabelSpec,
    label_spec,
    render_pr_body,
    render_task_file,
    task_file_path,
)
from selfheal.scrub import scrub_text

__all__ = ["AgentRunner", "FixPublisher", "ProposedFixStep", "clean_environment"]

#: Variables an agent gets from selfheal's environment without being named in ``agent.env``.
BASE_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "USER", "LOGNAME", "TERM")
#: Names whose values are treated as secrets when scrubbing (and never passed unless named).
SECRET_NAME_RE = re.compile(r"TOKEN|SECRET|PASSW|API_?KEY|PRIVATE|CREDENTIAL|AUTH|DSN|COOKIE|SESSION", re.I)
#: Never accepted from an agent, whatever the configuration says.
ALWAYS_PROTECTED = (".github/*", ".git/*", ".git", ".gitmodules")
#: Scrubber kinds that make a changed file unacceptable (personal data in code is not our call).
SECRET_KINDS = (
    "secret",
    "private-key",
    "github-token",
    "sentry-token",
    "aws-access-key",
    "aws-secret-key",
    "slack-token",
    "slack-webhook",
)
MAX_CHANGED_FILES = 200
MAX_CHANGE_BYTES = 5_000_000
#: Output read back from each process (the tail is kept).
MAX_OUTPUT_BYTES = 2_000_000
SUMMARY_NAME = "agent-summary.md"
#: ``git`` options for commands run after the agent: no hooks, no fsmonitor it could have planted.
_SAFE_GIT = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "commit.gpgsign=false")


class FixPublisher(Protocol):
    """Where an accepted change and its description go (the GitHub gateway implements it)."""

    def base_branch(self) -> tuple[str, str]:
        """The default branch and its head commit sha."""
        ...

    def commit_files(self, branch: str, changes: Sequence[FileChange], message: str) -> str:
        """Commit ``changes`` on ``branch`` (one commit on top of its head); return the commit sha."""
        ...

    def edit_body(self, number: int, body: str) -> None: ...

    def add_labels(self, number: int, specs: Sequence[LabelSpec]) -> None: ...

    def remove_label_if_present(self, number: int, name: str) -> None: ...


def clean_environment(
    environ: Mapping[str, str], passthrough: Iterable[str], extra: Mapping[str, str]
) -> dict[str, str]:
    """The agent's environment: :data:`BASE_ENV`, the configured names, then ``extra``."""
    names = [*BASE_ENV, *passthrough]
    env = {name: environ[name] for name in names if name in environ}
    env.update(extra)
    return env


def secret_looking_values(environ: Mapping[str, str]) -> list[str]:
    """Values of variables whose names look secret (scrubbed from everything an agent prints)."""
    return [value for name, value in environ.items() if SECRET_NAME_RE.search(name) and len(value) >= 8]


@dataclass(frozen=True, slots=True)
class _Process:
    exit_code: int | None
    timed_out: bool
    output: str
    failed_to_start: str = ""


def _read_tail(handle: IO[bytes]) -> str:
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(max(0, size - MAX_OUTPUT_BYTES))
    return handle.read().decode("utf-8", "replace")


def _run_process(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], stdin: bytes, timeout: float
) -> _Process:
    """Run ``argv`` in its own process group; kill the whole group on timeout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as given:
        given.write(stdin)
        given.seek(0)
        try:
            process = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=dict(env),
                stdin=given,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            return _Process(None, False, "", failed_to_start=f"{type(exc).__name__}: {exc.strerror or exc}")
        timed_out = False
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            # The agent's helpers may outlive it: the whole group goes, whatever happened.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        return _Process(None if timed_out else process.returncode, timed_out, _read_tail(out))


def _git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k in BASE_ENV}
    env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"})
    try:
        return subprocess.run(
            ["git", *_SAFE_GIT, "-C", str(repo), *args],
            capture_output=True,
            env=env,
            check=check,
            timeout=120,
        )
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ConfigError(str(repo), f"git {args[0]} failed: {(detail or ['?'])[-1][:300]}") from exc
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(str(repo), f"git {args[0]} failed: {type(exc).__name__}") from exc


_URL_USERINFO_RE = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s]+@", re.I)


def _stored_credentials(repo: Path) -> str:
    """The name of a credential in the repository's own git config (``""`` when there is none)."""
    found = _git(repo, "config", "--local", "--get-regexp", r"^http\..*extraheader$", check=False)
    names = [line.split(" ", 1)[0] for line in found.stdout.decode("utf-8", "replace").splitlines()]
    if names:
        return names[0]
    remotes = _git(repo, "config", "--local", "--get-regexp", r"^remote\..*\.(push)?url$", check=False)
    for line in remotes.stdout.decode("utf-8", "replace").splitlines():
        name, _, url = line.partition(" ")
        if _URL_USERINFO_RE.match(url.strip()):
            return f"{name} with a user or token in the URL"
    return ""


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


class AgentRunner:
    """Runs the configured agent for tasks of one repository checkout."""

    def __init__(
        self,
        config: AgentConfig,
        repo_root: Path,
        *,
        secrets: Sequence[str] = (),
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if not config.enabled:
            raise ConfigError("tool.selfheal.agent.command", "no agent command is configured")
        self.config = config
        self._environ = dict(os.environ if environ is None else environ)
        root = _git(Path(repo_root), "rev-parse", "--show-toplevel").stdout.decode().strip()
        self.repo_root = Path(root).resolve()
        leak = _stored_credentials(self.repo_root)
        if leak:
            # The worktree shares this configuration: the agent could read and use it.
            raise ConfigError(
                str(self.repo_root),
                f"the checkout's git configuration holds credentials ({leak}); an agent could read "
                "them. Check out with actions/checkout `persist-credentials: false` (or remove them) "
                "before running an agent",
            )
        self._secrets = (
            *secrets,
            *secret_looking_values(self._environ),
            *(self._environ[n] for n in config.env if len(self._environ.get(n, "")) >= 6),
        )

    @property
    def name(self) -> str:
        return self.config.display_name

    def _scrub(self, text: str) -> str:
        return scrub_text(text, secrets=self._secrets).text

    def _start_commit(self, base_sha: str | None) -> str:
        if (
            base_sha
            and _git(self.repo_root, "cat-file", "-e", f"{base_sha}^{{commit}}", check=False).returncode == 0
        ):
            return base_sha
        return _git(self.repo_root, "rev-parse", "HEAD").stdout.decode().strip()

    def run(
        self, task: PatchTask, task_file: str, task_file_text: str, *, base_sha: str | None = None
    ) -> AgentResult:
        """Run the agent for ``task`` and judge its change (nothing is committed remotely here)."""
        folder = self.config.worktree_dir
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        sandbox = Path(tempfile.mkdtemp(prefix="selfheal-agent-", dir=folder)).resolve()
        worktree = sandbox / "repo"
        added = False
        try:
            _git(self.repo_root, "worktree", "add", "--detach", str(worktree), self._start_commit(base_sha))
            added = True
            return self._run_in(task, task_file, task_file_text, sandbox, worktree)
        finally:
            if added:
                _git(self.repo_root, "worktree", "remove", "--force", str(worktree), check=False)
            shutil.rmtree(sandbox, ignore_errors=True)
            _git(self.repo_root, "worktree", "prune", check=False)

    def _result(self, outcome: Outcome, detail: str, evidence: str, **more: Any) -> AgentResult:
        return AgentResult(agent=self.name, outcome=outcome, detail=detail, evidence=evidence, **more)

    def _run_in(
        self, task: PatchTask, task_file: str, task_file_text: str, sandbox: Path, worktree: Path
    ) -> AgentResult:
        evidence = evidence_digest(task)
        task_path = worktree / task_file
        task_path.parent.mkdir(parents=True, exist_ok=True)
        task_path.write_text(task_file_text, encoding="utf-8")
        _git(worktree, "add", "--", task_file)
        _git(
            worktree,
            "-c",
            "user.name=selfheal",
            "-c",
            "user.email=selfheal@localhost",
            "commit",
            "--no-verify",
            "-q",
            "-m",
            f"selfheal: add task {task_file}",
        )
        # The change is measured against this commit, so an agent that commits its own work
        # (as some do) is seen the same as one that leaves it in the working tree.
        start = _git(worktree, "rev-parse", "HEAD").stdout.decode().strip()
        checkout_before = self._checkout_status()
        summary_file = sandbox / SUMMARY_NAME
        env = clean_environment(
            self._environ,
            self.config.env,
            {
                "SELFHEAL_TASK_FILE": str(task_path),
                "SELFHEAL_SUMMARY_FILE": str(summary_file),
                "SELFHEAL_FINGERPRINT": task.fingerprint,
            },
        )
        argv = [part.replace("{task_file}", str(task_path)) for part in self.config.command]
        stdin = json.dumps(self._task_json(task), ensure_ascii=False, indent=2).encode("utf-8")
        process = _run_process(argv, cwd=worktree, env=env, stdin=stdin, timeout=self.config.timeout)
        output = clean_output(process.output, self._secrets)
        summary = self._summary(summary_file, output)
        if process.failed_to_start:
            return self._result(
                "crashed", f"could not start: {self._scrub(process.failed_to_start)}", evidence
            )
        if process.timed_out:
            return self._result(
                "timeout", f"timed out after {self.config.timeout:g} s (killed)", evidence, output_tail=output
            )
        if process.exit_code != 0:
            return self._result(
                "crashed", f"exited with status {process.exit_code}", evidence, output_tail=output
            )
        outside = self._outside_writes(sandbox, summary_file, checkout_before)
        if outside:
            return self._result(
                "refused", f"wrote outside the repository ({outside})", evidence, output_tail=output
            )
        try:
            changes, refusal = self._changes(worktree, task_file, start)
            stats = self._diff_stat(worktree, start) if changes and not refusal else ()
        except (ConfigError, OSError) as exc:  # the agent broke the worktree itself
            detail = f"left a worktree git cannot read ({self._scrub(str(exc))[:200]})"
            return self._result("error", detail, evidence, output_tail=output)
        if refusal:
            return self._result("refused", refusal, evidence, output_tail=output)
        if not changes:
            return self._result("no-change", "changed nothing", evidence, output_tail=output, summary=summary)
        tests = self._tests(worktree, env)
        return self._result(
            "committed",
            f"changed {len(changes)} file{'s' if len(changes) != 1 else ''}",
            evidence,
            changes=changes,
            stats=stats,
            tests=tests,
            summary=summary,
            output_tail=output,
        )

    def _task_json(self, task: PatchTask) -> Any:
        def clean(value: Any) -> Any:
            if isinstance(value, str):
                return self._scrub(value)
            if isinstance(value, list):
                return [clean(v) for v in value]
            if isinstance(value, dict):
                return {k: clean(v) for k, v in value.items()}
            return value

        return clean(task.to_json())

    def _summary(self, summary_file: Path, output: str) -> str:
        if summary_file.is_file() and not summary_file.is_symlink():
            with summary_file.open("rb") as handle:
                text = handle.read(MAX_SUMMARY_CHARS * 4).decode("utf-8", "replace")
            return clean_output(text, self._secrets, limit=MAX_SUMMARY_CHARS)
        return clean_output(output, self._secrets, limit=MAX_SUMMARY_CHARS)

    def _checkout_status(self) -> bytes:
        return _git(self.repo_root, "status", "--porcelain=v1", "-z", "--untracked-files=all").stdout

    def _outside_writes(self, sandbox: Path, summary_file: Path, checkout_before: bytes) -> str:
        extra = sorted(p.name for p in sandbox.iterdir() if p.name not in {"repo", summary_file.name})
        if extra:
            return f"next to the worktree: {self._scrub(', '.join(extra))[:200]}"
        if self._checkout_status() != checkout_before:
            return f"in the checkout {self.repo_root.name}"
        return ""

    def _refusal(self, worktree: Path, path: str, task_file: str) -> str:
        pure = PurePosixPath(path)
        if pure.is_absolute() or ".." in pure.parts:
            return f"a path outside the repository ({path})"
        lowered = path.lower()
        if path == task_file:
            return f"a change to the task file {path}"
        for pattern in ALWAYS_PROTECTED:
            if fnmatchcase(lowered, pattern):
                return f"a change to {path} (.github/ and .git are never changed by an agent)"
        for pattern in self.config.protected:
            if fnmatchcase(path, pattern):
                return f"a change to the protected path {path} (matches {pattern!r})"
        full = worktree / path
        if not _inside(full.parent.resolve(), worktree):
            return f"a path through a symlink out of the repository ({path})"
        if full.is_symlink():
            target = (full.parent / os.readlink(full)).resolve()
            if not _inside(target, worktree):
                return f"a symlink pointing out of the repository ({path})"
        return ""

    def _changes(self, worktree: Path, task_file: str, start: str) -> tuple[tuple[FileChange, ...], str]:
        _git(worktree, "add", "-A")
        listing = _git(worktree, "diff", "--cached", "--name-status", "--no-renames", "-z", start).stdout
        parts = listing.decode("utf-8", "surrogateescape").split("\0")
        entries = [(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
        if len(entries) > MAX_CHANGED_FILES:
            return (), f"too many changed files ({len(entries)} > {MAX_CHANGED_FILES})"
        changes: list[FileChange] = []
        total = 0
        for status, path in entries:
            refusal = self._refusal(worktree, path, task_file)
            if refusal:
                return (), f"refused {self._scrub(refusal)}"
            full = worktree / path
            if status.startswith("D"):
                changes.append(FileChange(path, None))
                continue
            info = full.lstat()
            if stat.S_ISLNK(info.st_mode):
                changes.append(
                    FileChange(path, os.readlink(full).encode("utf-8", "surrogateescape"), "120000")
                )
                continue
            if not stat.S_ISREG(info.st_mode):
                return (), f"refused {self._scrub(path)}: not a regular file"
            data = full.read_bytes()
            total += len(data)
            if total > MAX_CHANGE_BYTES:
                return (), f"refused: the change is larger than {MAX_CHANGE_BYTES:,} bytes"
            if self._holds_secret(data):
                return (), f"refused {self._scrub(path)}: it contains a secret (a token or key)"
            mode = "100755" if info.st_mode & stat.S_IXUSR else "100644"
            changes.append(FileChange(path, data, mode))
        return tuple(changes), ""

    def _holds_secret(self, data: bytes) -> bool:
        text = data.decode("utf-8", "replace")
        if any(len(value) >= 6 and value in text for value in self._secrets):
            return True
        found = scrub_text(text).counts
        return any(found.get(kind) for kind in SECRET_KINDS)

    def _diff_stat(self, worktree: Path, start: str) -> tuple[DiffStat, ...]:
        listing = _git(worktree, "diff", "--cached", "--numstat", "--no-renames", "-z", start).stdout
        stats: list[DiffStat] = []
        for item in listing.decode("utf-8", "surrogateescape").split("\0"):
            if not item:
                continue
            added, removed, path = item.split("\t", 2)
            stats.append(
                DiffStat(
                    self._scrub(path),
                    None if added == "-" else int(added),
                    None if removed == "-" else int(removed),
                )
            )
        return tuple(stats)

    def _tests(self, worktree: Path, env: Mapping[str, str]) -> Verdict | None:
        command = self.config.test_command
        if not command:
            return None
        process = _run_process(command, cwd=worktree, env=env, stdin=b"", timeout=self.config.test_timeout)
        output = process.output or process.failed_to_start
        return Verdict(
            command=command,
            passed=process.exit_code == 0 and not process.timed_out,
            exit_code=process.exit_code,
            timed_out=process.timed_out,
            output_tail=clean_output(output, self._secrets),
        )


_PREVIOUS_RE = re.compile(r"after #(\d+) was closed")


class ProposedFixStep:
    """One PR's proposed fix: run the agent, commit an accepted change, describe the run."""

    def __init__(
        self, runner: AgentRunner, publisher: FixPublisher, *, secrets: Sequence[str], today: date
    ) -> None:
        self.runner = runner
        self.publisher = publisher
        self.secrets = tuple(secrets)
        self.today = today

    def propose(self, decision: PrDecision, number: int, *, base_sha: str | None) -> AgentResult:
        """Run the agent for the PR ``number`` of ``decision``; remote failures propagate."""
        task = decision.task
        task_file = decision.task_file or task_file_path(task)
        if base_sha is None:
            base_sha = self.publisher.base_branch()[1]
        text = render_task_file(task, secrets=self.secrets)
        result = self.runner.run(task, task_file, text, base_sha=base_sha)
        if result.committed:
            message = fix_commit_message(result.agent)
            result = replace(
                result, commit_sha=self.publisher.commit_files(decision.branch, result.changes, message)
            )
        self.publisher.edit_body(number, self._body(decision, fix_section(result, day=self.today)))
        if result.tests_failed:
            self.publisher.add_labels(number, [label_spec(TESTS_FAILING_LABEL)])
        elif result.committed:
            self.publisher.remove_label_if_present(number, TESTS_FAILING_LABEL)  # a later fix passed
        return result

    def _body(self, decision: PrDecision, section: str) -> str:
        body = with_fix_section(without_fix_section(decision.body), section)
        if max(len(body), len(body.encode("utf-8"))) <= MAX_BODY_CHARS:
            return body
        previous = _PREVIOUS_RE.search(decision.body)
        rendered = render_pr_body(
            decision.task,
            secrets=self.secrets,
            previous_pr=int(previous.group(1)) if previous else None,
            max_chars=MAX_BODY_CHARS - len(section.encode("utf-8")),
        )
        return with_fix_section(rendered, section)
