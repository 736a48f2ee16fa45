"""Printable receipts."""

from shop.orders import ORDERS


def money(value) -> str:
    return "{:.2f}".format(value)


def render_receipt(order_id: str) -> str:
    order = ORDERS[order_id]
    lines = [f"Receipt for order {order_id}"]
    for item in order["items"]:
        lines.append(f"{item['sku']:<12} {money(item['price'])}")
    lines.append(f"{'TOTAL':<12} {money(order['total'])}")
    return "\n".join(lines)
