"""``selfheal demo``: the whole pipeline on bundled sample data (no credentials, no network)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from selfheal.cli.common import add_notebooks_option, add_out_option


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "demo",
        help="run the whole pipeline on bundled sample data (no credentials, no network)",
        description=(
            "Pull from the built-in Sentry simulator, normalize Sentry and Playwright input, "
            "execute the notebooks into reports/, and plan draft PRs in dry-run mode."
        ),
    )
    add_out_option(parser)
    parser.add_argument("--reports", type=Path, default=Path("reports"), metavar="DIR", help="reports folder")
    add_notebooks_option(parser)
    parser.add_argument("--no-notebooks", action="store_true", help="skip executing the notebooks")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from selfheal.demo import run_demo

    run_demo(
        out_dir=args.out,
        reports_dir=args.reports,
        notebooks_dir=args.notebooks,
        run_notebooks=not args.no_notebooks,
    )
    return 0
