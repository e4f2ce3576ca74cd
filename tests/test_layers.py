"""The architecture as the README draws it: data flows one way, and imports follow it.

catalog (write side) -> views (read model) -> alerts (plan) -> outbox -> notifiers; publish
hands the views' items to the feed publishers; cli, web and daemon are edges over all of it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tracker"

# What each folder may not import (a lower layer importing a higher one, or a plugin
# reaching for the database).
FORBIDDEN = {
    "catalog": ("tracker.views", "tracker.alerts", "tracker.outbox", "tracker.publish"),
    "views": ("tracker.alerts", "tracker.outbox", "tracker.publish"),
    "alerts": ("tracker.outbox", "tracker.publish"),
    "outbox": ("tracker.publish",),
    "notifiers": ("tracker.db", "tracker.catalog", "tracker.outbox", "tracker.publish"),
    # publish reads the public alert notices (read only), but plans and records nothing
    "publish": ("tracker.alerts", "tracker.outbox.entries", "tracker.outbox.delivery"),
}
EDGES = ("tracker.cli", "tracker.web", "tracker.daemon")
# Plugins are handed what they deliver or publish: they never open a database themselves.
NO_DATABASE = ("sqlalchemy",)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it_nor_the_edges(folder: str) -> None:
    banned = FORBIDDEN[folder] + EDGES
    wrong = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in _modules(folder)
        for name in sorted(_imports(path))
        if _within(name, banned)
    ]
    assert wrong == []


def test_notifiers_open_no_database() -> None:
    wrong = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in _modules("notifiers")
        for name in sorted(_imports(path))
        if _within(name, NO_DATABASE)
    ]
    assert wrong == []


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(PACKAGE.parent)): lines
        for path in PACKAGE.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}


def test_every_folder_is_a_domain_the_readme_names() -> None:
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    architecture = readme.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    folders = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())
    assert [name for name in folders if f"`{name}/`" not in architecture] == []
