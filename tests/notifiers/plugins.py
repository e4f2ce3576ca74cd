"""Installing the test plugin package: a dist-info folder on sys.path, removed afterwards."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parent / "plugin"
ENTRY_POINTS = """\
[tracker.notifiers]
postcard = tracker_test_plugin:PostcardNotifier
unconfigured = tracker_test_plugin:Unconfigured
bad-settings = tracker_test_plugin:BadSettings
no-audience = tracker_test_plugin:NoAudience
not-a-class = tracker_test_plugin:not_a_class
broken-import = tracker_test_plugin.missing:Nothing
"""


def install_test_plugin(monkeypatch: pytest.MonkeyPatch, where: Path) -> None:
    """Make ``tracker-test-plugin`` an installed distribution for this test only."""
    dist_info = where / "tracker_test_plugin-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: tracker-test-plugin\nVersion: 1.0\n", encoding="utf-8"
    )
    (dist_info / "entry_points.txt").write_text(ENTRY_POINTS, encoding="utf-8")
    monkeypatch.syspath_prepend(str(where))
    monkeypatch.syspath_prepend(str(PACKAGE_DIR))
    for name in [m for m in sys.modules if m.startswith("tracker_test_plugin")]:
        monkeypatch.delitem(sys.modules, name)
