"""A small scripted "coding agent" for tests and the demo: ``python -m selfheal.testing.scripted_agent``.

It behaves like any CLI agent selfheal can drive: it reads the task JSON on stdin (and the
task file named by ``--task``), edits the first file of ``expectedFix.filesHint`` in the
current directory, and writes a summary to ``$SELFHEAL_SUMMARY_FILE``. The edit is a text
replacement given on the command line (``--replace OLD NEW``, repeatable), so a test can make it
fix a planted bug. ``--mode`` makes it misbehave the ways a real agent can::

    fix        edit filesHint[0] (default)
    nothing    change nothing
    sleep      sleep --seconds (past the timeout), start a helper that sleeps too
    crash      print a traceback and exit 3
    outside    write ../outside.txt (next to the worktree)
    workflow   edit .github/workflows/ci.yml
    symlink    add a symlink pointing out of the repository
    leak       print the environment and --print TEXT (a planted token) to stdout and the summary
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["main"]


def _write_summary(text: str) -> None:
    target = os.environ.get("SELFHEAL_SUMMARY_FILE")
    if target:
        Path(target).write_text(text, encoding="utf-8")


def _fix(task: dict[str, object], replacements: list[list[str]]) -> int:
    expected = task.get("expectedFix")
    hints = (expected.get("filesHint") if isinstance(expected, dict) else None) or []
    if not hints:
        print("scripted agent: the task names no file (expectedFix.filesHint); nothing to do")
        return 0
    target = Path(str(hints[0]))
    if not target.is_file():
        print(f"scripted agent: {target} does not exist here; nothing to do")
        return 0
    text = target.read_text(encoding="utf-8")
    done = 0
    for old, new in replacements:
        if old in text:
            text = text.replace(old, new)
            done += 1
    target.write_text(text, encoding="utf-8")
    print(f"scripted agent: applied {done} of {len(replacements)} replacements to {target}")
    _write_summary(
        f"Edited `{target}` for task {task.get('id')}: {done} replacement(s).\n"
        f"Cause (from the task): {task.get('title')}\n"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripted_agent", description=__doc__.splitlines()[0])
    parser.add_argument("--task", required=True, help="the task file (markdown)")
    parser.add_argument(
        "--mode",
        default="fix",
        choices=("fix", "nothing", "sleep", "crash", "outside", "workflow", "symlink", "leak"),
    )
    parser.add_argument("--replace", nargs=2, action="append", default=[], metavar=("OLD", "NEW"))
    parser.add_argument("--delete", action="append", default=[], metavar="PATH", help="also delete PATH")
    parser.add_argument("--commit", action="store_true", help="commit its own change (as some agents do)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--print", dest="planted", default="")
    parser.add_argument("--log", help="append one line per run to this file (tests count runs with it)")
    args = parser.parse_args(argv)
    if args.log:
        with Path(args.log).open("a", encoding="utf-8") as log:
            log.write(f"{args.mode} {args.task}\n")
    task = json.loads(sys.stdin.read() or "{}")
    if not Path(args.task).read_text(encoding="utf-8").startswith("<!-- selfheal:fingerprint="):
        print("scripted agent: the task file is not a selfheal task file")
        return 2
    if args.mode == "fix":
        for path in args.delete:
            Path(path).unlink()
        status = _fix(task, args.replace)
        if args.commit:
            identity = ["-c", "user.name=agent", "-c", "user.email=agent@localhost"]
            subprocess.run(["git", *identity, "commit", "-qam", "agent: fix"], check=True)
        return status
    if args.mode == "nothing":
        print("scripted agent: looked, found nothing to change")
        _write_summary("No change: could not reproduce.")
        return 0
    if args.mode == "sleep":
        # A helper in the same process group: selfheal must kill it too.
        subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({args.seconds})"])
        time.sleep(args.seconds)
        Path("late.txt").write_text("written after the timeout\n", encoding="utf-8")
        return 0
    if args.mode == "crash":
        print(
            "Traceback (most recent call last):\n  RuntimeError: the scripted agent crashed", file=sys.stderr
        )
        Path("half-done.txt").write_text("partial work\n", encoding="utf-8")
        return 3
    if args.mode == "outside":
        Path("../outside.txt").write_text("escaped\n", encoding="utf-8")
        return _fix(task, args.replace)
    if args.mode == "workflow":
        workflow = Path(".github/workflows/ci.yml")
        workflow.parent.mkdir(parents=True, exist_ok=True)
        workflow.write_text("on: push\njobs: {}\n", encoding="utf-8")
        return _fix(task, args.replace)
    if args.mode == "symlink":
        Path("escape").symlink_to("/etc/hostname")
        return _fix(task, args.replace)
    # leak
    for name, value in sorted(os.environ.items()):
        print(f"{name}={value}")
    print(f"token: {args.planted}")
    status = _fix(task, args.replace)
    _write_summary(f"Fixed it. By the way, the token is {args.planted}\n")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
