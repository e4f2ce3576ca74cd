"""Alerts: planning (pure), the outbox of events and deliveries, subscribers and digests."""
