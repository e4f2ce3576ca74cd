"""`tracker digest --send` through the real CLI process to a real SMTP server."""

from __future__ import annotations

import pytest

from ..process import tracker
from .conftest import StartServer

pytestmark = pytest.mark.slow  # the real command, several times: `make check` skips it


def test_digest_sent_a_week_before_expiry_names_new_start(tmp_path, smtp_server: StartServer):
    server = smtp_server()
    smtp = {"TRACKER_SMTP__HOST": server.host, "TRACKER_SMTP__PORT": str(server.port)}
    assert tracker(tmp_path, "init").returncode == 0
    added = tracker(
        tmp_path,
        "--as-of",
        "2026-01-01",
        "subscriber",
        "add",
        "analyst@example.org",
        "--digest",
        "daily",
        "--tz",
        "Europe/Geneva",
    )
    assert added.returncode == 0, added.stderr
    # the digest of 29 January falls due at 08:00 in Geneva
    sent = tracker(tmp_path, "--as-of", "2026-01-29T08:00+01:00", "digest", "--send", **smtp)
    assert sent.returncode == 0, sent.stderr
    [digest] = server.mailbox.received
    assert digest["To"].addresses[0].addr_spec == "analyst@example.org"
    text = digest.get_body(preferencelist=("plain",)).get_content()
    assert "New START expires" in text and "in 7 days" in text
    again = tracker(tmp_path, "--as-of", "2026-01-29T09:00+01:00", "digest", "--send", **smtp)
    assert again.returncode == 0 and len(server.mailbox.received) == 1
