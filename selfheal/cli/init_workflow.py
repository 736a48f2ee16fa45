"""`selfheal init-workflow`: write the weekly GitHub Actions workflow into a repository."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from selfheal.workflow import DEFAULT_INSTALL_SPEC, DEFAULT_WORKFLOW_PATH, workflow_target, write_workflow

_NEXT_STEPS = """\
Next steps (details: docs/ci.md in selfheal's repository):
  1. Add the repository secret SENTRY_AUTH_TOKEN (Sentry internal integration:
     event:read, project:read, org:read) and the variables SENTRY_ORG and SENTRY_PROJECT.
  2. Optional: a fine-grained token as the secret SELFHEAL_GITHUB_TOKEN (Contents, Pull requests,
     Issues: read and write) if the workflow's GITHUB_TOKEN is not enough.
  3. Commit the file, then run it once from the Actions tab (dry run is the default there)."""


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "init-workflow",
        help="write the weekly self-healing GitHub Actions workflow into this repository",
        description=(
            "Write .github/workflows/self-healing.yml: weekly Sentry pull, notebooks rendered "
            "to reports, draft PRs, artifacts and optional GitHub Pages. An existing file is "
            "left alone unless --force is given."
        ),
    )
    parser.add_argument(
        "--path",
        type=Path,
        default=None,
        metavar="FILE",
        help=(
            f"where to write the workflow (default: {DEFAULT_WORKFLOW_PATH}); a relative path is "
            "taken from the git repository's root, from whatever sub-folder this runs"
        ),
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite an existing workflow file that differs",
    )
    parser.add_argument(
        "--install-spec",
        default=DEFAULT_INSTALL_SPEC,
        metavar="REQUIREMENT",
        help=(
            f"what CI installs with pip (default: {DEFAULT_INSTALL_SPEC}); e.g. "
            "'selfheal @ git+https://github.com/ORG/selfheal@v0.1.0', "
            "or '.' in selfheal's own repository"
        ),
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    result = write_workflow(workflow_target(args.path), install_spec=args.install_spec, force=args.force)
    shown = Path(os.path.relpath(result.path))  # as the user would type it from here
    if result.outcome == "unchanged":
        print(f"{shown} is already up to date (installs {result.install_spec}).")
        return 0
    verb = "Wrote" if result.outcome == "created" else "Replaced"
    print(f"{verb} {shown} (installs {result.install_spec}).")
    print(_NEXT_STEPS)
    return 0
