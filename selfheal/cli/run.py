"""`selfheal run` (being built; see docs/ARCHITECTURE.md for the owner)."""

from __future__ import annotations

import argparse
from typing import Any

from selfheal.errors import SelfhealError


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("run", help="(not built yet)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    raise SelfhealError("selfheal run is not built yet")
