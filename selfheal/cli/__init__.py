"""The ``selfheal`` command line: one module per command, each with ``register(subparsers)``.

Expected failures (:class:`~selfheal.errors.SelfhealError`) become one line on stderr and a
non-zero exit code; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from selfheal import __version__
from selfheal.cli import demo, doctor, init_workflow, normalize, pr, pull, run
from selfheal.errors import SelfhealError

__all__ = ["build_parser", "main"]

_COMMANDS = (pull, normalize, pr, run, demo, doctor, init_workflow)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="selfheal",
        description=(
            "Production errors and test failures in, reviewed draft pull requests out. "
            "Secrets come only from environment variables (SENTRY_AUTH_TOKEN, GITHUB_TOKEN, BUGSINK_TOKEN)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"selfheal {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except SelfhealError as exc:
        print(f"selfheal: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("selfheal: interrupted", file=sys.stderr)
        return 130
    return code
