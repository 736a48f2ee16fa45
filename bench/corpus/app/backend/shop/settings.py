"""Deployment settings, read once from the environment."""

import os

#: The release being served; features switch on by release (see pricing.py).
RELEASE = os.environ.get("SHOP_RELEASE", "2.0.0")
#: The stock service the storefront polls.
STOCK_SERVICE_URL = os.environ.get("SHOP_STOCK_SERVICE_URL", "http://127.0.0.1:9/stock")


def release_at_least(version: str) -> bool:
    def parts(v: str) -> tuple[int, ...]:
        return tuple(int(p) for p in v.split("."))

    return parts(RELEASE) >= parts(version)
