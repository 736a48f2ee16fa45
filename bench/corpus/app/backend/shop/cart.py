"""Shopping carts kept per session."""

from shop.catalog import product

CARTS: dict[str, list[dict]] = {}


def parse_quantity(raw: str) -> int:
    """Quantity from the add-to-cart form."""
    return int(raw)


def add_line(session: str, sku: str, raw_quantity: str) -> list[dict]:
    product(sku)
    quantity = parse_quantity(raw_quantity)
    lines = CARTS.setdefault(session, [])
    lines.append({"sku": sku, "quantity": quantity})
    return lines
