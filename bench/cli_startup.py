"""How long `selfheal --help` takes, against a bare `python -c pass` (issue 13: under 0.5 s).

Run: ``.venv/bin/python bench/cli_startup.py [--runs N]``. Prints the median wall time of
each, the difference, and the ratio. Start-up stays fast because every command imports its
heavy modules (httpx, polars, jsonschema, PyGithub, papermill) only when it runs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def median_seconds(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="runs of each command (default 7)")
    args = parser.parse_args()
    bare = median_seconds([sys.executable, "-c", "pass"], args.runs)
    helped = median_seconds([sys.executable, "-m", "selfheal", "--help"], args.runs)
    print(f"python -c pass:   {bare * 1000:7.1f} ms (median of {args.runs})")
    print(f"selfheal --help:  {helped * 1000:7.1f} ms (median of {args.runs})")
    print(f"difference:       {(helped - bare) * 1000:7.1f} ms; ratio {helped / bare:.1f}x")
    print("target: selfheal --help under 500 ms:", "ok" if helped < 0.5 else "TOO SLOW")
    return 0 if helped < 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
