"""Billing: catalogue, bill runs, invoices, the ledger, payments, delinquency and usage."""
