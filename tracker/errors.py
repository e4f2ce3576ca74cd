"""Errors a user can cause. The CLI prints these as one line and exits 2."""

from __future__ import annotations


class TrackerError(Exception):
    """A failure the user can act on; its message is shown as-is."""

    exit_code = 1


class InvalidInput(TrackerError):
    """Input that was refused before anything changed."""

    exit_code = 2


class NotFound(TrackerError):
    """A slug or id that names nothing."""

    exit_code = 2


class ConfigError(TrackerError):
    """A setting that cannot be used."""

    exit_code = 2
