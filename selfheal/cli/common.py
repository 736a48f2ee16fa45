"""Options and output helpers shared by the commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_notebooks_option", "add_out_option", "info"]

DEFAULT_OUT = Path("out")


def add_out_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help="folder for outputs (default: out/)",
    )


def info(message: str) -> None:
    """A progress line for people; stderr, so stdout stays machine-readable."""
    print(message, file=sys.stderr, flush=True)


def add_notebooks_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--notebooks",
        type=Path,
        default=None,
        metavar="DIR",
        help="default: ./notebooks if present, else the notebooks shipped with selfheal",
    )
