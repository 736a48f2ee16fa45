"""``selfheal pr``: PatchTasks → draft pull requests (or previews with ``--dry-run``)."""

from __future__ import annotations

import argparse
import shlex
from dataclasses import replace
from typing import Any

from selfheal.cli.common import add_out_option, info
from selfheal.config import Config, load_config
from selfheal.errors import ConfigError
from selfheal.models import SEVERITIES
from selfheal.project import in_project, project_root, relative_to_project

HELP = """\
examples:
  selfheal pr --dry-run            plan only: out/pr_plan.json + out/pr_previews/*.md, no write request
  selfheal pr                      open/refresh draft PRs for blocker + high tasks (at most 5 new)
  selfheal pr --all                every severity
  selfheal pr --severity medium --severity high --max-new 2
  selfheal pr --no-draft           ready-for-review PRs (private repositories on a free plan)
  selfheal pr --close-resolved     close PRs whose error selfheal no longer sees
  selfheal pr --agent "my-agent --task {task_file}"
                                   a coding agent proposes a fix on each new PR (docs/agent.md)
  selfheal pr --no-agent           skip the agent configured in [tool.selfheal.agent]

environment: GITHUB_TOKEN (fine-grained: contents: write, pull requests: write,
issues: write), GITHUB_OWNER, GITHUB_REPO, GITHUB_API_URL (GitHub Enterprise).

an unreachable GitHub: each retry prints a line; after 3 retries (waits 1, 2, 4 s; 10 s per
attempt) the command gives up, at most about 50 s after it began.
"""

#: `selfheal pr`'s patience with GitHub: 4 attempts of at most 10 s, 1 + 2 + 4 s between them.
GITHUB_TIMEOUT_SECONDS = 10
GITHUB_RETRIES = 3
GITHUB_BACKOFF_SECONDS = 1.0


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "pr",
        help="open or refresh draft pull requests from out/*patchtasks.json",
        description=(
            "Plan one draft PR per PatchTask (most severe, most frequent first) and create, "
            "update or skip it. Re-runs find their earlier PRs and never open duplicates."
        ),
        epilog=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="write the plan and previews; change nothing remote"
    )
    parser.add_argument("--all", dest="include_all", action="store_true", help="every severity")
    parser.add_argument(
        "--severity",
        action="append",
        choices=SEVERITIES,
        metavar="S",
        help=f"a severity to include (repeatable; one of {', '.join(SEVERITIES)}; default blocker, high)",
    )
    parser.add_argument(
        "--max-new",
        type=int,
        default=-1,
        metavar="N",
        help="new PRs at most this run (default -1: [tool.selfheal.pr] max_new, which defaults to 5)",
    )
    parser.add_argument("--no-draft", action="store_true", help="open PRs ready for review, not as drafts")
    parser.add_argument(
        "--close-resolved",
        action="store_true",
        help="close open PRs whose error is resolved (default: comment only)",
    )
    agent = parser.add_mutually_exclusive_group()
    agent.add_argument(
        "--agent",
        metavar="COMMAND",
        help="the coding agent command ({task_file} is replaced; overrides agent.command; never put a "
        "secret here: list environment variable names in agent.env)",
    )
    agent.add_argument("--no-agent", action="store_true", help="do not run the configured agent")
    add_out_option(parser)
    parser.set_defaults(func=_run)


def _with_agent(config: Config, args: argparse.Namespace) -> Config:
    if args.no_agent:
        return replace(config, agent=replace(config.agent, command=()))
    if args.agent is None:
        return config
    try:
        command = tuple(shlex.split(args.agent))
    except ValueError as exc:
        raise ConfigError("--agent", f"cannot split the command: {exc}") from exc
    if not command:
        raise ConfigError("--agent", "the command is empty")
    return replace(config, agent=replace(config.agent, command=command))


def _run(args: argparse.Namespace) -> int:
    if args.include_all and args.severity:
        raise ConfigError("--severity", "use either --all or --severity, not both")
    from selfheal.pullrequests.github import GitHubOptions  # PyGithub loads only for this command
    from selfheal.pullrequests.run import run_pr

    options = GitHubOptions(
        timeout=GITHUB_TIMEOUT_SECONDS,
        retries=GITHUB_RETRIES,
        backoff_seconds=GITHUB_BACKOFF_SECONDS,
        on_retry=lambda line: info(f"selfheal: {line}"),
    )
    report = run_pr(
        in_project(args.out),  # the project's out/ and configuration, from any sub-folder
        _with_agent(load_config(project_root()), args),
        dry_run=args.dry_run,
        include_all=args.include_all,
        severities=args.severity,
        max_new=args.max_new,
        draft=not args.no_draft,
        close_resolved=args.close_resolved,
        options=options,
    )
    info(f"plan: {relative_to_project(report.plan_path)}")
    if report.previews:
        previews = relative_to_project(report.plan_path.parent / "pr_previews")
        info(f"previews: {previews}/ ({len(report.previews)} files)")
    print(report.summary())
    return 0
