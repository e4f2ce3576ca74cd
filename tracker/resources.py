"""Where the shipped folders (alembic, config, seeds) live.

A wheel carries them inside the package as ``tracker/_resources/<name>``; a source
checkout or editable install has them at the top of the repository.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def path(name: str) -> Path:
    bundled = _PACKAGE / "_resources" / name
    if bundled.is_dir():
        return bundled
    return _PACKAGE.parent / name
