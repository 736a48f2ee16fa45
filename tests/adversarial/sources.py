"""Plant values into every text field of real-format sources (Sentry export, Playwright
JSON, JUnit XML). The sources are the repository's own fixtures (tests/fixtures/), each string
leaf (JSON) or attribute and text node (XML) extended with a planted value; fields the
parsers need to be machine-readable (ids, counts, timestamps, enums) are left as they are."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from adversarial.planted import Planter

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

#: Keys whose value is machine-readable (parsers need it as it is).
_STRUCTURAL = {
    "id",
    "shortId",
    "count",
    "userCount",
    "firstSeen",
    "lastSeen",
    "dateCreated",
    "dateReceived",
    "status",
    "level",
    "platform",
    "eventID",
    "groupID",
    "issueId",
    "projectID",
    "startTime",
    "duration",
    "retry",
    "workerIndex",
    "parallelIndex",
    "expectedStatus",
    "outcome",
    "timestamp",
    "lineno",
    "colno",
    "line",
    "column",
    "in_app",
    "inApp",
    "isUnhandled",
    "hasSeen",
    "isBookmarked",
    "isPublic",
    "isSubscribed",
    "numComments",
    "substatus",
    "issueType",
    "issueCategory",
    "priority",
    "repeatEachIndex",
    "annotations",
    "version",
    "rootDir",
    "configFile",
    "testDir",
    "logger",
    "type_",
    "stats",
    "lifetime",
    "seenBy",
}


def plant_json(value: Any, planter: Planter, key: str = "") -> Any:
    if isinstance(value, str):
        if key in _STRUCTURAL:
            return value
        return f"{value} {planter().text} {planter().text}"
    if isinstance(value, list):
        return [plant_json(v, planter, key) for v in value]
    if isinstance(value, dict):
        return {k: plant_json(v, planter, k) for k, v in value.items()}
    return value


def planted_sentry(folder: Path, planter: Planter) -> Path:
    data = json.loads((FIXTURES / "seed" / "real-sentry_errors.json").read_text(encoding="utf-8"))
    path = folder / "sentry_errors.json"
    path.write_text(json.dumps(plant_json(data, planter), ensure_ascii=False), encoding="utf-8")
    return path


def planted_playwright(folder: Path, planter: Planter) -> Path:
    data = json.loads((FIXTURES / "playwright" / "report.json").read_text(encoding="utf-8"))
    planted = plant_json(data, planter)
    planted["config"] = data.get("config", {})  # paths the parser resolves against
    path = folder / "report.json"
    path.write_text(json.dumps(planted, ensure_ascii=False), encoding="utf-8")
    return path


_XML_STRUCTURAL = {"time", "timestamp", "tests", "failures", "errors", "skipped", "line", "file"}


def planted_junit(folder: Path, planter: Planter) -> Path:
    tree = ET.parse(FIXTURES / "junit" / "jest-junit.xml")  # noqa: S314 - our own fixture
    for element in tree.iter():
        for name, value in list(element.attrib.items()):
            if name not in _XML_STRUCTURAL:
                element.set(name, f"{value} {planter().text} {planter().text}")
        if element.text and element.text.strip():
            element.text = f"{element.text} {planter().text} {planter().text}"
    path = folder / "junit.xml"
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return path
