"""Accounts: who is billed for service at an address, and their contacts."""
