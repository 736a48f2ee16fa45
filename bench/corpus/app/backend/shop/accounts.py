"""Customer accounts."""

CUSTOMERS = {
    "u-100": {"name": "Ada", "email": "ada@example.test", "newsletter": False},
    "u-101": {"name": "Grace", "email": "grace@example.test", "newsletter": True},
}


class Customer:
    def __init__(self, record: dict) -> None:
        self.name = record["name"]
        self.email = record["email"]
        self.newsletter = record["newsletter"]


def find_customer(user_id: str) -> Customer | None:
    record = CUSTOMERS.get(user_id)
    return Customer(record) if record else None


def contact_address(user_id: str) -> str:
    """Where we write to a customer (guest checkouts have no account)."""
    customer = find_customer(user_id)
    return customer.email.lower()
