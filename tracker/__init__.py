"""tracker: an arms control treaty tracker with countdowns and scheduled alerts."""

__version__ = "0.1.0"
