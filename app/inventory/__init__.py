"""Inventory: items, locations, stock movements and barcode labels (no Qt)."""
