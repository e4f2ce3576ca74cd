"""Writing feed files atomically, and only when their content changed.

A reader polling with conditional GET sees a new ``Last-Modified`` only when there is
something new: an unchanged rebuild leaves the file's bytes and mtime alone.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_if_changed(path: Path, content: bytes) -> bool:
    """Replace ``path`` with ``content`` unless it already holds exactly that.

    The new file is written beside the old one and renamed over it, so a reader sees
    either the old file or the new one, never half of one. Returns whether it wrote.
    """
    try:
        if path.read_bytes() == content:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return True
