"""Stock levels, imported from the warehouse feed (one JSON object per line)."""

import json

STOCK: dict[str, int] = {}


def parse_feed_line(line: str) -> dict:
    return json.loads(line)


def import_feed(text: str) -> int:
    """Apply a warehouse feed; returns the number of SKUs updated."""
    updated = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        record = parse_feed_line(line)
        STOCK[record["sku"]] = int(record["on_hand"])
        updated += 1
    return updated
