"""Orders and refunds. Totals imported from the old shop are strings."""

ORDERS: dict[str, dict] = {
    "1001": {"currency": "EUR", "items": [{"sku": "COF-250", "price": 8.9}], "total": 8.9, "refund": None},
    "2002": {"currency": "EUR", "items": [{"sku": "TEA-GRN", "price": 6.5}], "total": 6.5, "refund": None},
    "3003": {
        "currency": "EUR",
        "items": [{"sku": "MUG-BLUE", "price": 12.0}],
        "total": 12.0,
        "refund": {"amount": 12.0, "status": "done"},
    },
}


def legacy_order(order_id: str, total: float) -> dict:
    """An order migrated from the old shop: its amounts were stored as text."""
    return {
        "currency": "EUR",
        "items": [{"sku": "COF-1KG", "price": f"{total:.2f}"}],
        "total": f"{total:.2f}",
        "refund": None,
    }


#: Orders migrated from the old shop (amounts stored as text).
for _old_id, _old_total in (("4004", 29.9), ("5005", 59.8), ("6006", 89.7)):
    ORDERS[_old_id] = legacy_order(_old_id, _old_total)


def order_view(order_id: str) -> dict:
    order = ORDERS[order_id]
    return {"id": order_id, **order}
