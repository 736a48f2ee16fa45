"""Ctrl-C or SIGTERM while ``selfheal`` is still importing: one line, no traceback.

Imported first by ``selfheal/__init__.py``. Only when the process *is* the ``selfheal``
command (the console script or ``python -m selfheal``), never when a program or a test
imports the package. Nothing has been written yet at this point, so the process exits at
once; :func:`selfheal.cli.main` takes the signals over as soon as it runs.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

__all__: list[str] = []


def _quit_while_starting(signum: int, frame: FrameType | None) -> None:
    sys.stderr.write("selfheal: interrupted\n")
    os._exit(128 + signum)


def _is_the_selfheal_command() -> bool:
    program = sys.argv[0] if sys.argv else ""
    return os.path.basename(program) == "selfheal" or program.endswith(
        os.path.join("selfheal", "__main__.py")
    )


if _is_the_selfheal_command():
    signal.signal(signal.SIGINT, _quit_while_starting)
    signal.signal(signal.SIGTERM, _quit_while_starting)
