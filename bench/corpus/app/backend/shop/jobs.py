"""Background jobs run by the scheduler."""

from shop import inventory, pricing
from shop.cart import CARTS


def reprice_abandoned_carts(saved_codes: dict[str, str]) -> dict[str, int]:
    """Nightly: recompute abandoned carts with the coupon the customer typed."""
    totals = {}
    for session, code in saved_codes.items():
        totals[session] = pricing.cart_total(CARTS.get(session, []), code)
    return totals


def sync_warehouse(feed: str) -> int:
    """Hourly: pull the warehouse feed into stock levels."""
    return inventory.import_feed(feed)
