"""The account page and ticket delivery."""

from boxoffice.services import contacts


def show_account(body: dict, query: dict) -> dict:
    return {"deliverTo": contacts.delivery_address(query.get("account", ""))}


def send_tickets(body: dict, query: dict) -> dict:
    address = contacts.delivery_address(body.get("account", ""))
    return {"sent": len(body.get("tickets", [])), "to": address}
