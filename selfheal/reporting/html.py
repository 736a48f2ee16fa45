"""Executed notebook → one self-contained HTML page that opens offline.

nbconvert's JupyterLab template does the layout; ``templates/selfheal_report.html.j2`` removes
everything it would fetch from a CDN (require.js, MathJax, Mermaid, widgets). Charts displayed
by :func:`selfheal.charts.use_offline_renderer` carry their Vega-Lite spec; here each becomes a
``<div class="selfheal-chart">`` holding the spec, and the Vega, Vega-Lite and vega-embed
JavaScript (bundled by ``vl-convert-python``) is inlined once at the end of the page.

Before rendering, every output is scrubbed: error tracebacks and streams through
:func:`selfheal.scrub.scrub_text`, and the given secret values removed from everything.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import nbformat
from nbconvert import HTMLExporter

from selfheal.charts import VEGALITE_MIMETYPE
from selfheal.scrub import scrub_text

__all__ = ["PageInfo", "notebook_to_html", "remove_secrets", "scrub_notebook", "vega_javascript"]

REDACTED = "[REDACTED:secret]"
TEMPLATE_FILE = "selfheal_report.html.j2"
_CHART_MIMETYPES = (VEGALITE_MIMETYPE, "application/vnd.vegalite.v6.json")


@dataclass(frozen=True, slots=True)
class PageInfo:
    """What the banner at the top of a report page says."""

    run_id: str
    notebook: str
    failed: bool = False
    cell: int | None = None
    error: str = ""
    #: Which data the page shows and when it was pulled ("Data: playwright: file (…)").
    data: str = ""


@cache
def vega_javascript() -> str:
    """Vega, Vega-Lite and vega-embed as one script defining ``window.vegaEmbed`` (~0.9 MB)."""
    import vl_convert  # loaded only when a page has charts (starts a JS runtime)

    # The stub says str, but only None means "no snippet" ("" returns an empty bundle).
    bundle: str = vl_convert.javascript_bundle(None)  # type: ignore[arg-type]
    # Never let the bundle close the <script> element that holds it.
    return bundle.replace("</script", "<\\/script")


def remove_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every exact secret value replaced (longest first)."""
    for value in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    return text


def _clean(text: str, secrets: list[str], *, scrub: bool) -> str:
    text = remove_secrets(text, secrets)
    return scrub_text(text, secrets=secrets).text if scrub else text


def _clean_value(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return remove_secrets(value, secrets)
    if isinstance(value, list):
        return [_clean_value(v, secrets) for v in value]
    if isinstance(value, dict):
        return {k: _clean_value(v, secrets) for k, v in value.items()}
    return value


def scrub_notebook(nb: nbformat.NotebookNode, secrets: Iterable[str]) -> nbformat.NotebookNode:
    """A copy of ``nb`` with errors and streams scrubbed and every secret value removed."""
    values = [s for s in secrets if s]
    out = copy.deepcopy(nb)
    for cell in out.cells:
        cell.source = remove_secrets(cell.source, values)
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "stream":
                output["text"] = _clean(output.get("text", ""), values, scrub=True)
            elif kind == "error":
                output["evalue"] = _clean(output.get("evalue", ""), values, scrub=True)
                output["traceback"] = [
                    _clean(line, values, scrub=True) for line in output.get("traceback", [])
                ]
            elif kind in {"display_data", "execute_result"}:
                output["data"] = _clean_value(dict(output.get("data", {})), values)
    return out


def _script_json(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _charts_to_html(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, int]:
    """Replace each chart output by its placeholder div; count the charts."""
    out = copy.deepcopy(nb)
    count = 0
    for cell in out.cells:
        for output in cell.get("outputs", []):
            data = output.get("data") or {}
            mimetype = next((m for m in _CHART_MIMETYPES if m in data), None)
            if mimetype is None:
                continue
            spec = data[mimetype]
            if isinstance(spec, str):
                spec = json.loads(spec)
            count += 1
            holder = (
                '<div class="selfheal-chart">'
                '<script type="application/json" class="selfheal-chart-spec">'
                f"{_script_json(spec)}</script>"
                '<div class="selfheal-chart-view"></div></div>'
            )
            output["data"] = {"text/html": holder, "text/plain": data.get("text/plain", "<chart>")}
    return out, count


def _template_dir() -> Path:
    return Path(str(resources.files("selfheal").joinpath("templates")))


def notebook_to_html(nb: nbformat.NotebookNode, page: PageInfo) -> str:
    """Render an executed (already scrubbed) notebook as one offline HTML page."""
    with_charts, count = _charts_to_html(nb)
    exporter = HTMLExporter(  # type: ignore[no-untyped-call]  # nbconvert ships no annotations
        template_name="lab",
        template_file=TEMPLATE_FILE,
        extra_template_paths=[str(_template_dir())],
    )
    extra = {
        "selfheal": {
            "run_id": page.run_id,
            "notebook": page.notebook,
            "failed": page.failed,
            "cell": "?" if page.cell is None else page.cell,
            "error": page.error,
            "data": page.data,
            "vega_js": vega_javascript() if count else "",
        },
        "metadata": {"name": page.notebook},
    }
    body, _ = exporter.from_notebook_node(with_charts, resources=extra)
    return str(body)
