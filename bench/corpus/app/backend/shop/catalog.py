"""The catalogue: SKUs, prices in cents."""

PRODUCTS = {
    "COF-250": {"name": "House coffee 250 g", "price_cents": 890, "unit": "piece"},
    "COF-1KG": {"name": "House coffee 1 kg", "price_cents": 2990, "unit": "piece"},
    "TEA-GRN": {"name": "Green tea", "price_cents": 650, "unit": "piece"},
    "BEANS-LOOSE": {"name": "Loose beans", "price_cents": 1800, "unit": "kg"},
    "MUG-BLUE": {"name": "Blue mug", "price_cents": 1200, "unit": "piece"},
}


def product(sku: str) -> dict:
    return PRODUCTS[sku]
