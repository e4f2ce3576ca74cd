"""The outbox: notices and their deliveries recorded, claimed, delivered, retried; catch-up."""
