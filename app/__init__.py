"""Riser: internet service operations for multi-dwelling units."""

__version__ = "0.1.0"
