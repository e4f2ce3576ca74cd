"""Errors a user can act on. The CLI prints each as one line and exits with its code."""

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


class ImpossibleChange(TrackerError):
    """A recorded status the item's dates say cannot be true as of now (a meeting held
    before it starts, a deadline missed while its window runs): well-formed, refused."""


class WriteFailed(TrackerError):
    """The database refused to save (locked, disk full): the whole write was undone."""
