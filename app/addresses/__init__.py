"""Serviceable addresses: every building and unit that can be served."""
