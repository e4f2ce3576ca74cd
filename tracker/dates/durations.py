"""Durations as people write lead times: ``90d``, ``2w``, ``12h``."""

from __future__ import annotations

import re
from datetime import timedelta

from tracker.errors import InvalidInput


def parse_duration(text: str) -> timedelta:
    """``90d``, ``2w``, ``12h``, ``0d`` as a timedelta (lead times, ``--within``)."""
    match = re.fullmatch(r"\s*(\d{1,5})\s*([dwh])\s*", text or "", re.IGNORECASE)
    if not match:
        raise InvalidInput(f"cannot read duration {text!r}: expected e.g. 90d, 2w or 12h")
    amount, unit = int(match.group(1)), match.group(2).lower()
    return {
        "d": timedelta(days=amount),
        "w": timedelta(weeks=amount),
        "h": timedelta(hours=amount),
    }[unit]


def parse_durations(text: str) -> list[timedelta]:
    """A comma-separated list of durations, longest first, without repeats."""
    parts = [part for part in (text or "").split(",") if part.strip()]
    if not parts:
        raise InvalidInput("expected at least one duration, e.g. 90d,30d,7d")
    return sorted({parse_duration(part) for part in parts}, reverse=True)


def format_duration(delta: timedelta) -> str:
    if delta.seconds and not delta.days:
        return f"{delta.seconds // 3600}h"
    return f"{delta.days}d"
