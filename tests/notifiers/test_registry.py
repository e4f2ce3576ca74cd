"""Discovering notifier plugins through the ``tracker.notifiers`` entry points."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.notifiers.base import Notifier
from tracker.notifiers.registry import UnknownNotifier, discover, load_notifiers, plugin
from tracker.settings import Settings

from .messages import alert
from .plugins import install_test_plugin


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path)


@pytest.fixture
def test_plugin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    install_test_plugin(monkeypatch, tmp_path / "site")


def test_the_built_in_notifiers_are_registered_as_entry_points() -> None:
    found = discover()
    assert {"email", "rss", "ics", "apprise"} <= set(found)
    assert found["email"].target == "tracker.notifiers.email:EmailNotifier"
    assert found["rss"].origin.startswith("tracker ")


def test_discovery_imports_no_plugin_module() -> None:
    import sys

    for name in ("tracker.notifiers.apprise_notifier", "apprise"):
        sys.modules.pop(name, None)
    discover()
    assert "tracker.notifiers.apprise_notifier" not in sys.modules


def test_a_third_party_plugin_is_discovered_and_used(test_plugin: None, settings: Settings) -> None:
    import tracker_test_plugin  # type: ignore[import-not-found]

    assert discover()["postcard"].origin == "tracker-test-plugin 1.0"
    loaded = load_notifiers(settings, ["postcard"])
    assert loaded.problems == []
    [postcard] = loaded.notifiers
    assert isinstance(postcard, Notifier)
    postcard.deliver(alert())
    assert tracker_test_plugin.DELIVERED[-1][0] == "Greetings from Arms control treaty tracker"


def test_broken_plugins_are_reported_and_the_others_still_load(
    test_plugin: None, settings: Settings
) -> None:
    loaded = load_notifiers(settings)

    assert {n.name for n in loaded.notifiers} >= {"email", "postcard"}
    assert {p.name for p in loaded.publishers} == {"rss", "ics"}
    assert "unconfigured" not in {n.name for n in loaded.notifiers}
    problems = {p.name: p.message for p in loaded.problems}
    assert set(problems) == {"bad-settings", "no-audience", "not-a-class", "broken-import"}
    assert "rejects its settings: ValueError: postcard.stamp must be" in problems["bad-settings"]
    assert "cannot be imported: ModuleNotFoundError" in problems["broken-import"]
    assert "from tracker-test-plugin 1.0" in problems["broken-import"]
    assert "lacks audience, recipients, deliver, close" in problems["no-audience"]
    assert "is a function, not a class" in problems["not-a-class"]
    loaded.close()


def test_an_unknown_name_is_a_lookup_error_naming_the_installed_ones() -> None:
    with pytest.raises(LookupError, match="no notifier named 'pigeon' \\(installed: apprise"):
        plugin("pigeon")
    with pytest.raises(UnknownNotifier):
        plugin("pigeon")


def test_apprise_without_urls_is_not_configured(settings: Settings) -> None:
    assert plugin("apprise").build(settings) is None
