"""Inventory screens: the item list, receive mode, codes from a photo and label printing."""
