"""Where tickets and notices are sent."""

ACCOUNTS = {
    "a-100": {"name": "Ana Ruiz", "email": "Ana.Ruiz@example.org"},
    "a-101": {"name": "Ben Okafor", "email": "ben@example.org"},
}


def account(account_id: str) -> dict:
    return ACCOUNTS.get(account_id) or {"name": "Box office guest", "email": None}


def delivery_address(account_id: str) -> str:
    record = account(account_id)
    return record.get("email").lower()
