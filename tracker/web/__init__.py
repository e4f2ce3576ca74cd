"""Serving the feed directory, the countdown board and a read-only JSON API over HTTP."""
