"""``selfheal run``: execute the notebooks with papermill into offline HTML reports."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from selfheal.cli.common import add_notebooks_option, add_out_option, info
from selfheal.errors import InputError
from selfheal.storage import read_json, read_text

__all__ = ["load_params", "register"]

MAX_PARAMS_BYTES = 1024 * 1024


def load_params(path: str | Path) -> dict[str, Any]:
    """A parameters file: a JSON or YAML mapping of notebook parameter names to literals."""
    import yaml  # only a parameters file needs it

    p = Path(path)
    if p.suffix.lower() == ".json":
        data = read_json(p, max_bytes=MAX_PARAMS_BYTES)
    else:
        try:
            data = yaml.safe_load(read_text(p, max_bytes=MAX_PARAMS_BYTES))
        except yaml.YAMLError as exc:
            raise InputError(p, f"malformed YAML ({' '.join(str(exc).split())})") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(p, "expected a mapping of parameter names to values")
    return {str(k): v for k, v in data.items()}


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "run",
        help="execute the notebooks with papermill and write HTML reports",
        description=(
            "Execute notebooks/NN-*.ipynb in order with papermill into reports/<run-id>/ "
            "(executed .ipynb + self-contained HTML that opens offline) and rewrite "
            "reports/index.html. Parameters never hold secrets: tokens come only from "
            "environment variables. Exits 4 when a notebook fails (its report shows the cell)."
        ),
    )
    parser.add_argument(
        "--params",
        type=Path,
        metavar="FILE",
        help="YAML or JSON mapping of notebook parameters (see `papermill --help-notebook`)",
    )
    parser.add_argument("--run-id", metavar="ID", help="report folder name (default: UTC time)")
    add_notebooks_option(parser)
    parser.add_argument(
        "--reports", type=Path, default=Path("reports"), metavar="DIR", help="default: reports/"
    )
    add_out_option(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from selfheal.runner import run_notebooks  # papermill loads only for this command

    params = load_params(args.params) if args.params is not None else {}
    result = run_notebooks(
        args.notebooks,
        args.reports,
        params=params,
        run_id=args.run_id,
        out_dir=args.out,
        progress=info,
    )
    info(f"reports: {result.run_dir}/ and {result.index}")
    return 0
