"""Cart totals and coupon codes."""

from shop import settings
from shop.catalog import product

#: Active coupon codes -> percent off. Codes are case-insensitive.
DISCOUNTS = {"WELCOME10": 10, "SUMMER15": 15, "STAFF30": 30}


def lookup_discount(code: str) -> int:
    """Percent off for a coupon code."""
    normalized = code.strip().upper()
    return DISCOUNTS[normalized]


def _apply_discount(subtotal_cents: int, code: str) -> int:
    # 2.1.0: coupon handling moved into its own helper (shared with the mobile API).
    percent = lookup_discount(code)
    return subtotal_cents * (100 - percent) // 100


def cart_total(lines: list[dict], code: str | None = None) -> int:
    """Total in cents of ``[{sku, quantity}]`` with an optional coupon code."""
    subtotal = sum(product(line["sku"])["price_cents"] * line["quantity"] for line in lines)
    if not code:
        return subtotal
    if settings.release_at_least("2.1.0"):
        return _apply_discount(subtotal, code)
    percent = lookup_discount(code)
    return subtotal * (100 - percent) // 100
