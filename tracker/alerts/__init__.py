"""Alerts: what is due and when (planning, pure), subscribers and their filters, digests."""
