"""Benchmark: report size at 1,000 and 1,000,000 raw items (goal: at most 3 MB each).

Run: ``.venv/bin/python bench/report_size.py [--items 1000 1000000]``

For each size, N raw items (Sentry issues and test results) are generated as the PatchTasks
they normalize into: a long-tailed distribution of items over tasks (a few tasks hold most
items, as in real error streams), every item listed in its task's ``occurrences``, 14 days of
``stats`` per task, owners, suggested files, statuses and families of near-duplicate titles.
The tasks are written to ``out/patchtasks.json`` in a scratch folder, and the real analysis
notebook (``notebooks/03-analyze.ipynb``) runs on them through ``selfheal.runner`` exactly
as ``selfheal run`` would (papermill, then the offline HTML page with the Vega JavaScript
inlined). Printed: the HTML and executed-notebook sizes, and the times.

The number of tasks grows with N but is capped (``--max-tasks``): a million raw items are a
few thousand distinct bugs, not a million; the charts and tables show the top N anyway, and the
near-duplicate search compares every pair of tasks.
"""

from __future__ import annotations

import argparse
import random
import shutil
import time
from pathlib import Path

from selfheal.contracts import save_tasks
from selfheal.models import STATUSES, Evidence, ExpectedFix, Occurrence, PatchTask
from selfheal.runner import run_notebooks

ROOT = Path(__file__).resolve().parents[1]
SCRATCH = ROOT / ".bench" / "report_size"
GOAL_BYTES = 3_000_000
DAY = 86_400

FAMILIES = [
    ("KeyError", "'{w}' missing from cart line", "shop/cart.py"),
    ("TypeError", "Cannot read properties of undefined (reading '{w}')", "web/src/checkout.ts"),
    ("ValueError", "invalid literal for int() with base 10: '{w}'", "shop/api/orders.py"),
    ("TimeoutError", "Locator.click: Timeout 5000ms exceeded waiting for {w}", "e2e/cart.spec.ts"),
    ("AssertionError", "expected {w} to equal 3", "tests/test_prices.py"),
    ("ConnectionError", "upstream {w} refused connection", "shop/payments/client.py"),
]
WORDS = ["sku", "price", "coupon", "address", "user", "total", "currency", "basket", "session", "token_ttl"]
SEVERITIES = ("blocker", "high", "medium", "low")


def synthetic_tasks(items: int, max_tasks: int, seed: int = 7) -> list[PatchTask]:
    rng = random.Random(seed)
    n_tasks = max(1, min(max_tasks, items // 3))
    weights = [1.0 / (rank + 1) for rank in range(n_tasks)]
    counts = [0] * n_tasks
    for index in rng.choices(range(n_tasks), weights=weights, k=items - n_tasks):
        counts[index] += 1
    counts = [c + 1 for c in counts]  # every task holds at least one raw item
    start = 1_767_225_600  # 2026-01-01
    tasks = []
    next_item = 1
    for i, count in enumerate(counts):
        kind, template, path = FAMILIES[i % len(FAMILIES)]
        word = f"{rng.choice(WORDS)}_{i // len(FAMILIES)}"
        occurrences = tuple(
            Occurrence("sentry", str(next_item + k))
            if (next_item + k) % 3
            else Occurrence("playwright", f"spec-{next_item + k}", project="chromium")
            for k in range(count)
        )
        next_item += count
        daily = [max(0, int(count / 14 * rng.uniform(0.2, 1.8))) for _ in range(14)]
        tasks.append(
            PatchTask(
                id=f"sentry-{1000 + i}",
                title=f"{kind}: {template.format(w=word)}",
                area="backend" if path.startswith("shop") else "frontend",
                owner=f"team-{i % 12}",
                severity=SEVERITIES[min(3, int(rng.expovariate(1.2)))],
                frequency=count,
                last_seen="2026-01-14T12:00:00Z",
                first_seen="2026-01-01T00:00:00Z",
                fingerprint=f"{i:016x}",
                source="sentry",
                severity_reasons=("synthetic",),
                occurrences=occurrences,
                evidence=Evidence(sentry_url=f"https://acme.sentry.io/issues/{1000 + i}/", message=word),
                expected_fix=ExpectedFix(files_hint=(path, f"{path.rsplit('/', 1)[0]}/module_{i % 40}.py")),
                exception_type=kind,
                users=count // 4,
                status=STATUSES[i % len(STATUSES)],
                stats=tuple((start + d * DAY, n) for d, n in enumerate(daily)),
            )
        )
    return tasks


def measure(items: int, max_tasks: int) -> tuple[int, int, float, float]:
    folder = SCRATCH / f"items-{items}"
    shutil.rmtree(folder, ignore_errors=True)
    notebooks = folder / "notebooks"
    notebooks.mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / "03-analyze.ipynb", notebooks / "03-analyze.ipynb")
    clock = time.perf_counter()
    tasks = synthetic_tasks(items, max_tasks)
    save_tasks(folder / "out" / "patchtasks.json", tasks)
    generated = time.perf_counter() - clock
    clock = time.perf_counter()
    result = run_notebooks(notebooks, folder / "reports", run_id="bench", out_dir=folder / "out", cwd=ROOT)
    ran = time.perf_counter() - clock
    html = (result.run_dir / "03-analyze.html").stat().st_size
    ipynb = (result.run_dir / "03-analyze.ipynb").stat().st_size
    source_mb = (folder / "out" / "patchtasks.json").stat().st_size / 1e6
    print(
        f"{items:>9,} raw items -> {len(tasks):>5,} tasks "
        f"(input {source_mb:7.1f} MB, made in {generated:5.1f} s): "
        f"report HTML {html / 1e6:.2f} MB, executed notebook {ipynb / 1e6:.2f} MB, "
        f"run {ran:5.1f} s  [{'ok' if max(html, ipynb) <= GOAL_BYTES else 'OVER 3 MB'}]",
        flush=True,
    )
    return html, ipynb, generated, ran


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs="+", default=[1_000, 1_000_000])
    parser.add_argument("--max-tasks", type=int, default=600)
    args = parser.parse_args()
    print(f"goal: report at most {GOAL_BYTES / 1e6:.2f} MB; scratch in {SCRATCH}")
    sizes = [measure(n, args.max_tasks) for n in args.items]
    worst = max(max(h, i) for h, i, _, _ in sizes)
    print(f"largest file: {worst / 1e6:.2f} MB ({'within' if worst <= GOAL_BYTES else 'OVER'} the 3 MB goal)")


if __name__ == "__main__":
    main()
