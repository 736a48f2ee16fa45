"""Corner Shop: a small web shop (catalogue, cart, coupons, shipping, refunds)."""
