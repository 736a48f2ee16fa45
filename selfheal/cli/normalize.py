"""``selfheal normalize``: raw errors and test reports → PatchTasks."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from selfheal.cli.common import add_out_option, info
from selfheal.errors import ConfigError

HELP = """\
examples:
  selfheal normalize sentry                      out/sentry_errors.json -> out/patchtasks.json
  selfheal normalize sentry --input export.json --min-frequency 5
  selfheal normalize playwright                  playwright-report/report.json or test-results/report.json
  selfheal normalize playwright report.json      -> out/playwright_patchtasks.json
  selfheal normalize junit junit.xml             -> out/junit_patchtasks.json
  selfheal normalize --sentry out/sentry_errors.json --playwright report.json --junit junit.xml
                                                 one merged out/patchtasks.json (cross-source dedup)
"""


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "normalize",
        help="turn Sentry exports, Playwright JSON and JUnit XML into PatchTasks",
        description="Normalize raw errors and test failures into deduplicated, scored PatchTasks.",
        epilog=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("kind", nargs="?", choices=("sentry", "playwright", "junit"), help="one source")
    parser.add_argument("report", nargs="?", type=Path, help="report file for playwright / junit")
    parser.add_argument(
        "--input",
        type=Path,
        help="Sentry export for `normalize sentry` (default out/sentry_errors.json)",
    )
    parser.add_argument("--sentry", type=Path, metavar="FILE", help="merge: a Sentry export")
    parser.add_argument("--playwright", type=Path, metavar="FILE", help="merge: a Playwright JSON report")
    parser.add_argument("--junit", type=Path, metavar="FILE", help="merge: a JUnit XML report")
    parser.add_argument(
        "--min-frequency",
        type=int,
        metavar="N",
        help="skip Sentry issues seen fewer than N times (default: SENTRY_ERROR_MIN_FREQUENCY or config, 2)",
    )
    parser.add_argument(
        "--previous",
        type=Path,
        metavar="FILE",
        help="last run's PatchTasks: mark new/ongoing/regressed/resolved",
    )
    parser.add_argument(
        "--rules",
        type=Path,
        metavar="FILE",
        help="merge/split decisions (default selfheal-rules.toml)",
    )
    parser.add_argument(
        "--config-root",
        type=Path,
        default=Path(),
        metavar="DIR",
        help="target repository (config, CODEOWNERS, files)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="write here instead of the default name in --out",
    )
    add_out_option(parser)
    parser.set_defaults(func=_run)


def _inputs(args: argparse.Namespace) -> dict[str, Path]:
    merged = {k: getattr(args, k) for k in ("sentry", "playwright", "junit") if getattr(args, k) is not None}
    if args.kind and merged:
        raise ConfigError(
            "normalize",
            f"use either `normalize {args.kind}` or --sentry/--playwright/--junit, not both",
        )
    if merged:
        return merged
    if args.kind == "sentry":
        if args.report is not None:
            raise ConfigError("normalize sentry", "give the export with --input PATH")
        return {"sentry": args.input or args.out / "sentry_errors.json"}
    if args.kind == "playwright":
        if args.report is not None:
            return {"playwright": args.report}
        from selfheal.sources.playwright import find_default_report

        return {"playwright": find_default_report(Path.cwd())}
    if args.kind == "junit":
        if args.report is None:
            raise ConfigError(
                "normalize junit", "give the JUnit XML file: selfheal normalize junit REPORT.xml"
            )
        return {"junit": args.report}
    raise ConfigError(
        "normalize",
        "say what to normalize: sentry, playwright REPORT, junit REPORT, or --sentry/--playwright/--junit",
    )


def _run(args: argparse.Namespace) -> int:
    from selfheal.pipeline import normalize  # polars and jsonschema load only for this command

    inputs = _inputs(args)
    summary = normalize(
        args.out,
        sentry=inputs.get("sentry"),
        playwright=inputs.get("playwright"),
        junit=inputs.get("junit"),
        previous=args.previous,
        rules=args.rules,
        min_frequency=args.min_frequency,
        config_root=args.config_root,
        output=args.output,
    )
    info(summary.summary())
    for warning in summary.warnings:
        info(f"selfheal: warning: {warning}")
    return 0
