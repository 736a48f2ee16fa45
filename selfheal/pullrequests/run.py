"""One ``selfheal pr`` run: load the tasks, plan, write the plan and previews, apply on GitHub.

:func:`run_pr` is what ``selfheal pr`` and the pull-requests notebook call. A dry run and a
real run share the planner; the dry run writes ``out/pr_plan.json`` plus one markdown preview
per planned PR under ``out/pr_previews/`` and makes no write request (it lists existing PRs
read-only only when a GitHub token and repository are configured). The returned
:class:`PrReport` carries the plan's rows as written to ``pr_plan.json``.

With ``[tool.selfheal.agent]`` configured, each created PR (and each updated PR whose task
changed) also gets a coding agent's proposed fix: see :mod:`selfheal.pullrequests.agent` and
docs/agent.md. A dry run only says which agent runs would happen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from selfheal.config import Config
from selfheal.errors import ConfigError, GitHubError, MissingEnvError
from selfheal.models import SEVERITIES, PatchTask
from selfheal.pipeline import load_all_tasks
from selfheal.pullrequests.github import GitHubGateway, GitHubOptions, RequestStats
from selfheal.pullrequests.plan import ExistingPr, PrPlan, plan_prs
from selfheal.pullrequests.proposal import AgentPolicy
from selfheal.pullrequests.render import normalized_fingerprint, render_task_file
from selfheal.settings import GitHubSettings, secret_values
from selfheal.storage import write_json, write_text

if TYPE_CHECKING:
    from selfheal.pullrequests.agent import ProposedFixStep

__all__ = ["PLAN_NAME", "PREVIEWS_DIR", "PrOutcome", "PrReport", "run_pr"]

PLAN_NAME = "pr_plan.json"
PREVIEWS_DIR = "pr_previews"


@dataclass(frozen=True, slots=True)
class PrOutcome:
    """What actually happened to one planned PR."""

    fingerprint: str
    action: str
    result: str
    pr_number: int | None = None
    pr_url: str = ""
    #: What the coding agent did (one line), when it ran.
    agent: str = ""


@dataclass(frozen=True, slots=True)
class PrReport:
    """Counts of one ``selfheal pr`` run, and the GitHub requests it made."""

    dry_run: bool
    created: int
    updated: int
    unchanged: int
    skipped: int
    requests: int
    write_requests: int
    plan_path: Path
    previews: tuple[Path, ...] = ()
    listing_pages: int = 0
    label_writes: int = 0
    comments: int = 0
    closed: int = 0
    rate_limit_waits: tuple[float, ...] = ()
    outcomes: tuple[PrOutcome, ...] = field(default=())
    listed: bool = True
    #: Agent runs planned (dry run) or made; ``None`` when no agent is configured.
    agent_runs: int | None = None
    #: One row per task, as written to ``pr_plan.json`` (``decisions``): action, severity,
    #: title, branch, reason, and after a real run the result, PR number and URL.
    plan_rows: tuple[dict[str, Any], ...] = ()

    @property
    def planned(self) -> int:
        """PRs that would be (or were) created or updated."""
        return self.created + self.updated

    @property
    def waited_seconds(self) -> float:
        return sum(self.rate_limit_waits)

    def summary(self) -> str:
        verb = "would create" if self.dry_run else "created"
        line = (
            f"{verb} {self.created}, {'would update' if self.dry_run else 'updated'} {self.updated}, "
            f"unchanged {self.unchanged}, skipped {self.skipped}; GitHub requests: {self.requests} "
            f"({self.write_requests} writes, {self.listing_pages} listing pages)"
        )
        if self.rate_limit_waits:
            line += f"; rate-limit waits: {len(self.rate_limit_waits)} ({self.waited_seconds:.0f} s)"
        if self.dry_run and not self.listed:
            line += "; existing PRs not listed (no GitHub token/repository configured)"
        if self.agent_runs is not None:
            line += f"; agent runs: {self.agent_runs}{' would run' if self.dry_run else ''}"
            done = [o.agent for o in self.outcomes if o.agent]
            if done:
                line += f" ({'; '.join(done)})"
        return line


def _write_previews(out_dir: Path, plan: PrPlan, secrets: Sequence[str]) -> tuple[Path, ...]:
    folder = out_dir / PREVIEWS_DIR
    if folder.is_dir():
        for old in folder.glob("*.md"):
            old.unlink()  # previews of an earlier plan would mislead
    written: list[Path] = []
    for decision in plan.decisions:
        if decision.action not in ("create", "update"):
            continue
        header = [
            f"<!-- selfheal preview: {decision.action} ({decision.reason}) -->",
            f"<!-- title: {decision.title.replace('--', '- -')} -->",
            f"<!-- branch: {decision.branch} · labels: {', '.join(x.name for x in decision.labels)} -->",
            *([f"<!-- {decision.agent_reason.replace('--', '- -')} -->"] if decision.agent_reason else []),
            "",
        ]
        path = folder / f"{normalized_fingerprint(decision.fingerprint)}.md"
        text = "\n".join(header) + decision.body
        if decision.action == "create":
            task_file = render_task_file(decision.task, secrets=secrets)
            text += f"\n\n---\n\n<!-- task file {decision.task_file} -->\n\n{task_file}"
        written.append(write_text(path, text))
    return tuple(written)


def _plan_json(
    plan: PrPlan, outcomes: Sequence[PrOutcome], stats: RequestStats, *, dry_run: bool
) -> dict[str, Any]:
    data = plan.to_json()
    data["dryRun"] = dry_run
    by_fp = {o.fingerprint: o for o in outcomes}
    for item in data["decisions"]:
        outcome = by_fp.get(item["fingerprint"])
        if outcome is not None:
            item["result"] = outcome.result
            item["prNumber"] = outcome.pr_number
            item["prUrl"] = outcome.pr_url or item.get("prUrl")
            if outcome.agent and "agent" in item:
                item["agent"]["result"] = outcome.agent
    data["requests"] = {
        "total": stats.requests,
        "writes": stats.writes,
        "listingPages": stats.listing_pages,
        "labelWrites": stats.label_writes,
        "rateLimitWaits": stats.rate_limit_waits,
    }
    return data


def _settings_for(dry_run: bool, settings: GitHubSettings | None) -> GitHubSettings | None:
    if settings is not None:
        return settings
    if not dry_run:
        return GitHubSettings.from_env()
    try:
        return GitHubSettings.from_env(require_token=False)
    except MissingEnvError:
        return None


def run_pr(
    out_dir: Path,
    config: Config,
    *,
    dry_run: bool,
    include_all: bool = False,
    severities: Sequence[str] | None = None,
    max_new: int = -1,
    draft: bool = True,
    close_resolved: bool = False,
    settings: GitHubSettings | None = None,
    tasks: list[PatchTask] | None = None,
    options: GitHubOptions | None = None,
    list_existing: bool | None = None,
    today: date | None = None,
) -> PrReport:
    """Plan draft PRs for the PatchTasks in ``out_dir`` and (unless ``dry_run``) apply the plan.

    ``max_new`` caps new PRs; -1 (the default) takes ``[tool.selfheal.pr] max_new``.
    ``tasks`` replaces reading ``out/*patchtasks.json``. ``settings`` defaults to the
    environment (``GITHUB_TOKEN``, ``GITHUB_OWNER``, ``GITHUB_REPO``, ``GITHUB_API_URL``).
    A dry run lists existing PRs (read-only) only when ``list_existing`` is true, or when it is
    ``None`` and a token and repository are configured. Raises ``GitHubError`` for remote
    failures, ``InputError``/``ConfigError`` for local ones. ``today`` (default: the UTC date)
    dates agent runs (one per task per week).
    """
    if max_new < -1:
        raise ConfigError(
            "max_new", f"must be a whole number >= 0, or -1 for the configured limit, got {max_new}"
        )
    out_dir = Path(out_dir)
    all_tasks = list(tasks) if tasks is not None else load_all_tasks(out_dir)
    chosen = tuple(SEVERITIES) if include_all else tuple(severities or config.pr.severities)
    limit = config.pr.max_new if max_new == -1 else max_new
    use_draft = draft and config.pr.draft
    github_settings = _settings_for(dry_run, settings)
    secrets = [
        *secret_values(),
        *((github_settings.token,) if github_settings and github_settings.token else ()),
    ]
    if list_existing is None:
        list_existing = github_settings is not None and bool(github_settings.token)
    gateway = (
        GitHubGateway(github_settings, options, secrets=secrets)
        if github_settings and list_existing
        else None
    )
    try:
        return _run(
            out_dir,
            config,
            all_tasks,
            gateway,
            dry_run=dry_run,
            severities=chosen,
            max_new=limit,
            draft=use_draft,
            close_resolved=close_resolved,
            secrets=secrets,
            today=today or datetime.now(UTC).date(),
        )
    finally:
        if gateway is not None:
            gateway.close()


def _run(
    out_dir: Path,
    config: Config,
    tasks: list[PatchTask],
    gateway: GitHubGateway | None,
    *,
    dry_run: bool,
    severities: tuple[str, ...],
    max_new: int,
    draft: bool,
    close_resolved: bool,
    secrets: Sequence[str],
    today: date,
) -> PrReport:
    if gateway is None and not dry_run:
        raise GitHubError("no GitHub repository configured (set GITHUB_OWNER and GITHUB_REPO)")
    existing: list[ExistingPr] = (
        gateway.list_selfheal_prs(config.pr.branch_prefix) if gateway is not None else []
    )
    plan = plan_prs(
        tasks,
        existing,
        severities=severities,
        max_new=max_new,
        draft=draft,
        close_resolved=close_resolved,
        labels=config.pr.labels,
        branch_prefix=config.pr.branch_prefix,
        secrets=secrets,
        listed=gateway is not None,
        agent=(
            AgentPolicy(config.agent.display_name, config.agent.max_runs, today)
            if config.agent.enabled
            else None
        ),
    )
    stats = gateway.stats if gateway is not None else RequestStats()
    plan_path = out_dir / PLAN_NAME
    written = _plan_json(plan, (), stats, dry_run=dry_run)
    write_json(plan_path, written)
    previews: tuple[Path, ...] = ()
    outcomes: list[PrOutcome] = []
    if dry_run:
        previews = _write_previews(out_dir, plan, secrets)
    else:
        assert gateway is not None  # noqa: S101 - checked at the top of this function
        fixer = (
            _fix_step(config, gateway, secrets, today) if any(d.agent_run for d in plan.decisions) else None
        )
        try:
            outcomes = _apply(plan, gateway, secrets=secrets, fixer=fixer)
        finally:
            written = _plan_json(plan, outcomes, stats, dry_run=dry_run)
            write_json(plan_path, written)
    return PrReport(
        dry_run=dry_run,
        created=plan.count("create"),
        updated=plan.count("update"),
        unchanged=plan.count("unchanged"),
        skipped=plan.count("skip"),
        requests=stats.requests,
        write_requests=stats.writes,
        plan_path=plan_path,
        previews=previews,
        listing_pages=stats.listing_pages,
        label_writes=stats.label_writes,
        comments=sum(1 for d in plan.decisions if d.action == "update" and d.comment is not None),
        closed=sum(1 for d in plan.decisions if d.close),
        rate_limit_waits=tuple(stats.rate_limit_waits),
        outcomes=tuple(outcomes),
        listed=plan.listed,
        agent_runs=sum(d.agent_run for d in plan.decisions) if config.agent.enabled else None,
        plan_rows=tuple(written["decisions"]),
    )


def _fix_step(config: Config, gateway: GitHubGateway, secrets: Sequence[str], today: date) -> ProposedFixStep:
    from selfheal.pullrequests.agent import AgentRunner, ProposedFixStep  # git and subprocesses: when used

    runner = AgentRunner(config.agent, config.repo_root, secrets=secrets)
    return ProposedFixStep(runner, gateway, secrets=secrets, today=today)


def _apply(
    plan: PrPlan, gateway: GitHubGateway, *, secrets: Sequence[str], fixer: ProposedFixStep | None = None
) -> list[PrOutcome]:
    outcomes: list[PrOutcome] = []
    creates = [d for d in plan.decisions if d.action == "create"]
    base: tuple[str, str] | None = None
    for decision in plan.decisions:
        if decision.action not in ("create", "update"):
            continue
        if decision.action == "create":
            if base is None:
                base = gateway.base_branch()
                gateway.ensure_labels(label for d in creates for label in d.labels)
            number, url, result = gateway.create(
                decision,
                render_task_file(decision.task, secrets=secrets),
                base=base[0],
                base_sha=base[1],
                draft=plan.draft,
            )
        else:
            (number, url), result = gateway.update(decision), "updated"
        agent = ""
        if fixer is not None and decision.agent_run:
            agent = fixer.propose(decision, number, base_sha=base[1] if base else None).line()
        outcomes.append(PrOutcome(decision.fingerprint, decision.action, result, number, url, agent))
    return outcomes
