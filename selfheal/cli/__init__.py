"""The ``selfheal`` command line: one module per command, each with ``register(subparsers)``.

Expected failures (:class:`~selfheal.errors.SelfhealError`) become one line on stderr and a
non-zero exit code; anything else is a bug and keeps its traceback. Ctrl-C (SIGINT) and
SIGTERM are one line too (exit 130 / 143) at any moment, also while the commands are still
being imported: every output is written through :mod:`selfheal.storage` (temporary file and
rename), so the files of earlier steps stay intact. An operating-system error that escaped a
command (a folder that cannot be created, a file where a folder should be) is one line naming
the file, exit 2. URLs in messages lose their ``user:password@``.
"""

from __future__ import annotations

import _thread
import argparse
import importlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, NoReturn

from selfheal import __version__
from selfheal.errors import SelfhealError
from selfheal.lean_imports import skip_slow_optional_modules
from selfheal.scrub import strip_url_userinfo

if TYPE_CHECKING:
    from sys import UnraisableHookArgs

__all__ = ["build_parser", "command", "main"]

#: The command modules, imported when the parser is built (they pull in polars, httpx…).
_COMMAND_NAMES = ("pull", "normalize", "pr", "run", "demo", "doctor", "init_workflow")


class Terminated(BaseException):
    """SIGTERM arrived (a CI job cancelled, ``kill``); unwinds like KeyboardInterrupt."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _commands() -> tuple[ModuleType, ...]:
    return tuple(importlib.import_module(f"selfheal.cli.{name}") for name in _COMMAND_NAMES)


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
    for module in _commands():
        module.register(sub)
    return parser


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


def _interrupt_again(
    previous: Callable[[UnraisableHookArgs], object],
) -> Callable[[UnraisableHookArgs], object]:
    """An unraisable-exception hook that raises a lost Ctrl-C again.

    A SIGINT that lands while Python runs a callback it cannot raise from (a weakref callback
    of the import system, a ``__del__``) is only printed as "Exception ignored", and the command
    would go on as if no one had pressed Ctrl-C. Here it is raised again in the main thread
    (signalled from a helper thread, so it arrives once the hook has returned), where the
    command stops with its one line; every other unraisable exception goes to the hook that
    was there before.
    """

    def hook(unraisable: UnraisableHookArgs) -> object:
        if issubclass(unraisable.exc_type, KeyboardInterrupt):
            # From another thread: raised here, inside the hook, it would be lost again.
            _thread.start_new_thread(_thread.interrupt_main, (signal.SIGINT,))
            return None
        return previous(unraisable)

    return hook


def _fail(message: str) -> None:
    print(f"selfheal: error: {strip_url_userinfo(message)}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    skip_slow_optional_modules()  # before any command imports jsonschema (seconds saved per process)
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        previous_term = signal.signal(signal.SIGTERM, _on_sigterm)
        previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
        previous_hook = sys.unraisablehook
        sys.unraisablehook = _interrupt_again(previous_hook)
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("selfheal: interrupted; files written so far are complete", file=sys.stderr)
        return 130
    except Terminated as exc:
        print("selfheal: terminated (SIGTERM); files written so far are complete", file=sys.stderr)
        return 128 + exc.signum
    except BaseExceptionGroup as group:
        # The signal arrived inside a task of an async pull: it comes back in a group.
        if group.subgroup(Terminated) is not None:
            print("selfheal: terminated (SIGTERM); files written so far are complete", file=sys.stderr)
            return 128 + signal.SIGTERM
        if group.subgroup(KeyboardInterrupt) is not None:
            print("selfheal: interrupted; files written so far are complete", file=sys.stderr)
            return 130
        raise
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous_term)
            signal.signal(signal.SIGINT, previous_int)
            sys.unraisablehook = previous_hook


def command() -> NoReturn:
    """The ``selfheal`` command's process (console script and ``python -m selfheal``): run
    :func:`main` and exit with its code.

    An interrupted run leaves through ``os._exit(130)`` once stdout and stderr are flushed.
    CPython marks a KeyboardInterrupt raised inside ``eval``/``exec`` of a string as unhandled
    even when it is caught later, and then ends the process by SIGINT instead of the exit code;
    such code runs whenever a named tuple or a dataclass is created, so a Ctrl-C during a lazy
    import (stamina's first retry hook imports prometheus_client) made 1 run in 20 end by
    signal. Only the command's process does this: :func:`main` itself returns 130 to a caller.
    """
    code = main()
    if code == 130:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except SelfhealError as exc:
        _fail(str(exc))
        return exc.exit_code
    except OSError as exc:
        where = exc.filename if exc.filename is not None else "selfheal"
        _fail(f"{where}: {exc.strerror or type(exc).__name__}")
        return 2
    except UnicodeError as exc:
        _fail(f"text that cannot be encoded or decoded ({type(exc).__name__}: {getattr(exc, 'reason', exc)})")
        return 2
    return code
