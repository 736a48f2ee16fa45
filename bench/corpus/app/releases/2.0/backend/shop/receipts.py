"""Printable receipts (release 2.0 snapshot, kept for the 2.0.x hotfix branch)."""

from shop.orders import ORDERS


def render_receipt(order_id: str) -> str:
    order = ORDERS[order_id]
    lines = [f"Receipt for order {order_id}"]
    for item in order["items"]:
        lines.append("%-12s %.2f" % (item["sku"], float(item["price"])))
    lines.append("%-12s %.2f" % ("TOTAL", float(order["total"])))
    return "\n".join(lines)
