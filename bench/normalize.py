"""Benchmark: normalize + fingerprint + cluster 1,000,000 raw items, against polars just reading them.

Run: ``.venv/bin/python bench/normalize.py [--items N]``

Input: N raw items as NDJSON (one line per Sentry event or Playwright test result: ~70 % Sentry
events with stack frames, ~30 % Playwright results with title paths), generated once into
``.bench/`` with ids, numbers, UUIDs and quoted values that vary between occurrences of the same
~300 bugs. Each measurement runs in a fresh subprocess, so peak memory (max RSS) is per phase.

- baseline: ``polars.read_ndjson`` of the file, nothing else.
- selfheal: the same read, then the source fields (exception type, message, key frame) derived
  with polars expressions, then ``selfheal.fingerprint.fingerprint_frame`` (the normalization
  regexes + SHA-256 per distinct key, the code ``build_tasks`` uses) and ``cluster_frame``.

Prints both times, the ratio (goal ≤ 3) and peak memory. Machines here are noisy: the ratio,
measured in the same run, is the figure to compare.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".bench"

TEMPLATES = [
    ("KeyError", "'{word}'", "shop/cart.py", "line_total"),
    (
        "ValueError",
        "invalid literal for int() with base 10: '{word}'",
        "shop/api/orders.py",
        "parse_quantity",
    ),
    ("LookupError", "order {n} not found for user {uuid}", "shop/orders.py", "load_order"),
    (
        "TimeoutError",
        "upstream https://pay.example.com/v1/charge/{n} timed out after {n}ms",
        "shop/pay.py",
        "charge",
    ),
    (
        "TypeError",
        "Cannot read properties of undefined (reading '{word}')",
        "js/search.js",
        "renderSuggestions",
    ),
    ("OSError", "cannot open /tmp/job-{n}/export-{hex}.csv", "shop/export.py", "write_rows"),
]
WORDS = ["sku", "price", "qty", "abc", "x1", "name", "map", "id"]


def generate(path: Path, items: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w") as out:
        for _ in range(items):
            bug = rng.randrange(300)
            exc, template, filename, function = TEMPLATES[bug % len(TEMPLATES)]
            message = template.format(
                word=WORDS[bug % len(WORDS)] if exc in {"KeyError", "TypeError"} else rng.choice(WORDS),
                n=rng.randrange(10**6),
                uuid=f"{rng.getrandbits(128):032x}",
                hex=f"{rng.getrandbits(48):012x}",
            )
            if rng.random() < 0.7:
                row = {
                    "source": "sentry",
                    "item_id": str(10_000 + bug * 7 + rng.randrange(3)),
                    "exception": {
                        "type": exc,
                        "value": message,
                        "frames": [
                            {
                                "filename": f"mod{bug}/{filename}",
                                "function": f"{function}_{bug}",
                                "in_app": True,
                            },
                            {
                                "filename": "django/core/handlers/base.py",
                                "function": "_get_response",
                                "in_app": False,
                            },
                        ],
                    },
                    "count": rng.randrange(1, 50),
                    "users": rng.randrange(0, 10),
                    "last_seen": f"2026-11-{rng.randrange(1, 25):02d}T10:00:00Z",
                }
            else:
                row = {
                    "source": "playwright",
                    "item_id": f"{bug:020x}-{rng.randrange(2):020x}",
                    "project": rng.choice(["chromium", "chromium-mobile"]),
                    "title_path": f"Suite {bug} › removes SKU-{rng.randrange(10**4)} from the cart",
                    "error": {
                        "message": f"Error: {message}",
                        "location": {"file": f"tests/spec{bug}.spec.ts"},
                    },
                    "count": rng.randrange(1, 3),
                    "users": 0,
                    "last_seen": "2026-11-24T09:00:00Z",
                }
            out.write(json.dumps(row) + "\n")
    tmp.replace(path)


def phase(kind: str, path: Path) -> dict[str, float]:
    import polars as pl

    start = time.perf_counter()
    frame = pl.read_ndjson(path)
    read_done = time.perf_counter()
    if kind == "selfheal":
        from selfheal.fingerprint import fingerprint_frame, normalize_message_expr
        from selfheal.normalize import cluster_frame

        in_app = pl.element().struct.field("in_app")
        frame_id = pl.concat_str(
            [pl.element().struct.field("filename"), pl.element().struct.field("function")], separator=":"
        )
        records = frame.select(
            "source",
            "item_id",
            pl.col("count").cast(pl.Int64),
            pl.col("users").cast(pl.Int64),
            "last_seen",
            exception_type=pl.coalesce(
                pl.col("exception").struct.field("type"),
                pl.col("error").struct.field("message").str.extract(r"^(\w*Error)\b"),
            ),
            message=pl.coalesce(
                pl.col("exception").struct.field("value"), pl.col("error").struct.field("message")
            ),
            frame_key=pl.coalesce(
                pl.col("exception")
                .struct.field("frames")
                .list.eval(pl.when(in_app).then(frame_id))
                .list.drop_nulls()
                .list.first(),
                pl.concat_str(
                    [
                        pl.col("error").struct.field("location").struct.field("file"),
                        normalize_message_expr("title_path"),
                    ],
                    separator=":",
                ),
            ),
        )
        clusters = cluster_frame(fingerprint_frame(records))
        result = {"clusters": float(clusters.height), "after_read": time.perf_counter() - read_done}
    else:
        result = {"rows": float(frame.height)}
    result["seconds"] = time.perf_counter() - start
    result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def run_phase(kind: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", kind, "--input", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2, help="runs per phase; the fastest counts")
    parser.add_argument("--phase", choices=["baseline", "selfheal"], help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.input)))
        return
    path = CACHE / f"raw-items-{args.items}.ndjson"
    if not path.exists():
        print(f"generating {args.items:,} raw items -> {path}", flush=True)
        generate(path, args.items)
    size_mb = path.stat().st_size / 1e6
    base = min((run_phase("baseline", path) for _ in range(args.repeat)), key=lambda r: r["seconds"])
    ours = min((run_phase("selfheal", path) for _ in range(args.repeat)), key=lambda r: r["seconds"])
    ratio = ours["seconds"] / base["seconds"]
    print(f"input: {args.items:,} raw items, {size_mb:.0f} MB NDJSON")
    print(f"polars read only (baseline):          {base['seconds']:.2f} s, peak {base['max_rss_mb']:.0f} MB")
    print(
        f"selfheal normalize+fingerprint+cluster: {ours['seconds']:.2f} s, peak {ours['max_rss_mb']:.0f} MB, "
        f"{int(ours['clusters'])} clusters"
    )
    after = ours["after_read"]
    print(f"  of which after the read (derive fields, normalize, fingerprint, cluster): {after:.2f} s")
    print(f"ratio selfheal / read: {ratio:.2f} (goal <= 3) -> {'OK' if ratio <= 3 else 'ABOVE GOAL'}")


if __name__ == "__main__":
    main()
