"""`selfheal doctor`: check configuration, tokens and access, and print a checklist."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "doctor",
        help="check configuration, tokens, and access to Sentry and GitHub",
        description=(
            "Check that the configuration parses, that SENTRY_AUTH_TOKEN and GITHUB_TOKEN are "
            "set, that the Sentry organization, projects and issues are readable with the "
            "token's scopes, and that the GitHub repository accepts branches and draft pull "
            "requests. Prints a checklist with a fix for every problem; exits 1 when there is "
            "one. Only reads; never prints a token."
        ),
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=Path(),
        metavar="DIR",
        help="repository whose pyproject.toml / selfheal.toml to check (default: .)",
    )
    parser.add_argument("--skip-sentry", action="store_true", help="do not check Sentry")
    parser.add_argument("--skip-github", action="store_true", help="do not check GitHub")
    parser.add_argument(
        "--no-draft",
        dest="draft",
        action="store_false",
        default=None,
        help="PRs will be opened as ready for review (`selfheal pr --no-draft`): "
        "no warning about draft support",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from selfheal.doctor import run_doctor, terminal_supports_unicode  # heavy: loaded when run

    report = run_doctor(
        root=args.root,
        environ=os.environ,
        skip_sentry=args.skip_sentry,
        skip_github=args.skip_github,
        draft=args.draft,
    )
    print(report.render(unicode=terminal_supports_unicode()), flush=True)
    return 0 if report.ok else 1
