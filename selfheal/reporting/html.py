"""Executed notebook → one self-contained HTML page that opens offline.

nbconvert's JupyterLab template does the layout; ``templates/selfheal_report.html.j2`` removes
everything it would fetch from a CDN (require.js, MathJax, Mermaid, widgets). Charts displayed
by :func:`selfheal.charts.use_offline_renderer` carry their Vega-Lite spec; here each becomes a
``<div class="selfheal-chart">`` holding the spec, and the Vega, Vega-Lite and vega-embed
JavaScript (bundled by ``vl-convert-python``) is inlined once at the end of the page.

Before rendering, every output is scrubbed through :func:`selfheal.scrub.scrub_text` (error
tracebacks, streams, and each representation of displayed data: ``text/plain`` beside
``text/html``, chart specs), and the given secret values removed from everything.
"""

from __future__ import annotations

import contextlib
import copy
import html
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import nbformat
from nbconvert import HTMLExporter

from selfheal.charts import VEGALITE_MIMETYPE
from selfheal.errors import OutputError
from selfheal.scrub import scrub_text
from selfheal.storage import write_text

__all__ = [
    "PageInfo",
    "cache_folder",
    "cached_vega_javascript",
    "notebook_to_html",
    "remove_secrets",
    "scrub_notebook",
    "vega_javascript",
]

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


#: Where the Vega JavaScript is kept between runs: building it starts a JS runtime (~1.4 s).
CACHE_ENV = "XDG_CACHE_HOME"
_BUNDLE_MARK = "vegaEmbed"


def cache_folder(environ: Mapping[str, str] | None = None) -> Path | None:
    """``$XDG_CACHE_HOME/selfheal``, else ``~/.cache/selfheal`` (the XDG base-directory default);
    None when there is no home folder to put it in."""
    env = os.environ if environ is None else environ
    base = env.get(CACHE_ENV) or ""
    if Path(base).is_absolute():  # the specification ignores a relative value
        return Path(base) / "selfheal"
    try:
        return Path.home() / ".cache" / "selfheal"
    except RuntimeError:
        return None


def bundle_file(folder: Path) -> Path:
    """The cached bundle of the installed vl-convert: another version never reads it."""
    return folder / f"vega-bundle-vl-convert-{metadata.version('vl-convert-python')}.js"


def build_vega_javascript() -> str:
    """Vega, Vega-Lite and vega-embed from vl-convert, safe inside a ``<script>`` element."""
    import vl_convert  # loaded only when a page has charts (starts a JS runtime)

    # The stub says str, but only None means "no snippet" ("" returns an empty bundle).
    bundle: str = vl_convert.javascript_bundle(None)  # type: ignore[arg-type]
    # Never let the bundle close the <script> element that holds it.
    return bundle.replace("</script", "<\\/script")


def cached_vega_javascript(folder: Path | None) -> str:
    """The bundle from ``folder``, built and kept there when missing or unreadable. A cache that
    cannot be read or written is no error: the bundle is then built for this run only."""
    if folder is None:
        return build_vega_javascript()
    path = bundle_file(folder)
    try:
        kept = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        kept = ""
    if _BUNDLE_MARK in kept and "</script" not in kept:
        return kept
    bundle = build_vega_javascript()
    with contextlib.suppress(OutputError):  # a read-only home, a full disk: the next run builds it
        write_text(path, bundle)
    return bundle


@cache
def vega_javascript() -> str:
    """Vega, Vega-Lite and vega-embed as one script defining ``window.vegaEmbed`` (~0.9 MB)."""
    return cached_vega_javascript(cache_folder())


def remove_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every exact secret value replaced (longest first)."""
    for value in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    return text


def _clean(text: str, secrets: list[str], *, scrub: bool) -> str:
    text = remove_secrets(text, secrets)
    return scrub_text(text, secrets=secrets).text if scrub else text


def _clean_value(value: Any, secrets: list[str]) -> Any:
    """Every string inside a JSON-like value scrubbed (chart specs and their inline data)."""
    if isinstance(value, str):
        return _clean(value, secrets, scrub=True)
    if isinstance(value, list):
        return [_clean_value(v, secrets) for v in value]
    if isinstance(value, dict):
        return {k: _clean_value(v, secrets) for k, v in value.items()}
    return value


_HTML_TEXT = re.compile(r">([^<>]+)<")
#: Binary payloads (base64): scrubbing would corrupt them, and they hold no text.
_BINARY_MIMETYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")


def _clean_html(markup: str, secrets: list[str]) -> str:
    """Scrub the text between tags (the markup itself stays well formed).

    Entities are decoded before scrubbing (``{&quot;password&quot;: …}`` is JSON to a
    reader, and must be to the rules) and the scrubbed text is escaped again; a segment the
    rules leave alone is kept byte for byte.
    """
    markup = remove_secrets(markup, secrets)

    def segment(match: re.Match[str]) -> str:
        raw = match.group(1)
        text = html.unescape(raw) if "&" in raw else raw
        cleaned = _clean(text, secrets, scrub=True)
        if cleaned == text:
            return match.group(0)
        return ">" + html.escape(cleaned, quote=False) + "<"

    return _HTML_TEXT.sub(segment, markup)


def _clean_output_data(data: dict[str, Any], secrets: list[str]) -> dict[str, Any]:
    """Every representation of a display output scrubbed: text/plain as much as text/html."""
    cleaned: dict[str, Any] = {}
    for mimetype, value in data.items():
        if mimetype in _BINARY_MIMETYPES:
            cleaned[mimetype] = remove_secrets(value, secrets) if isinstance(value, str) else value
        elif mimetype == "text/html" and isinstance(value, str | list):
            text = "".join(value) if isinstance(value, list) else value
            cleaned[mimetype] = _clean_html(text, secrets)
        elif isinstance(value, str | list) and all(isinstance(v, str) for v in value):
            text = _clean("".join(value), secrets, scrub=True)  # multi-line text
            # a repr that is markup (HTML in text/plain): its entities hide JSON from the rules
            cleaned[mimetype] = _clean_html(text, secrets) if "&" in text and "<" in text else text
        else:
            cleaned[mimetype] = _clean_value(value, secrets)
    return cleaned


def scrub_notebook(nb: nbformat.NotebookNode, secrets: Iterable[str]) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose every output is scrubbed (streams, errors, and every
    representation of displayed data: text/plain, text/html between tags, chart specs) and
    every secret value removed."""
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
                output["data"] = _clean_output_data(dict(output.get("data", {})), values)
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
