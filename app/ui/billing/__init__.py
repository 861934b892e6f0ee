"""The Billing section: catalogue, settings, bill runs, invoices, payments and delinquency."""
