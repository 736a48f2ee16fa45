"""Payment provider webhooks."""

import logging

logger = logging.getLogger("shop.payments")


def settle(payment_id: str, waited_ms: int) -> bool:
    if waited_ms > 5000:
        logger.error("Payment provider did not confirm %s within %d ms", payment_id, waited_ms)
        return False
    return True
