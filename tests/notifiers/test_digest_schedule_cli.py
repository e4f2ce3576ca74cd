"""`tracker digest --preview/--send/--force` on each subscriber's schedule, through the real
CLI process to a real SMTP server (aiosmtpd, in this process)."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from ..process import tracker
from .conftest import Server, StartServer

pytestmark = pytest.mark.slow  # the real command, many times: `make check` skips it

MONDAY = "2026-11-23T09:00Z"  # 23 Nov 2026 is a Monday; the global digest hour is 08:00


def run(home: Path, server: Server, *args: str) -> str:
    smtp = {"TRACKER_SMTP__HOST": server.host, "TRACKER_SMTP__PORT": str(server.port)}
    done = tracker(home, *args, **smtp)
    assert done.returncode == 0, done.stderr
    return done.stdout


def to(mail: EmailMessage) -> str:
    return str(mail["To"].addresses[0].addr_spec)


def text_part(mail: EmailMessage) -> str:
    """The decoded text/plain part, its lines ended as in a file (SMTP sends CRLF)."""
    part = mail.get_body(preferencelist=("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content()).replace("\r\n", "\n")


def test_send_three_times_sends_each_due_digest_once_as_previewed(
    tmp_path: Path, smtp_server: StartServer
) -> None:
    server = smtp_server()
    run(tmp_path, server, "init")
    for email, frequency in (("ana@example.org", "daily"), ("bo@example.org", "weekly")):
        run(tmp_path, server, "--as-of", "2026-11-20", "subscriber", "add", email,
            "--digest", frequency, "--tz", "Europe/Geneva")  # fmt: skip
    preview = tracker(tmp_path, "--as-of", MONDAY, "digest", "--preview", "--subscriber",
                      "ana@example.org")  # fmt: skip
    assert preview.returncode == 0 and "2026-11-23 for ana@example.org: due" in preview.stderr

    outputs = [run(tmp_path, server, "--as-of", MONDAY, "digest", "--send") for _ in range(3)]

    assert sorted(to(m) for m in server.mailbox.received) == ["ana@example.org", "bo@example.org"]
    assert "recorded 2 digest(s)" in outputs[0]
    assert all("recorded 0 digest(s); sent 0" in out for out in outputs[1:])
    [ana] = [m for m in server.mailbox.received if to(m) == "ana@example.org"]
    assert preview.stdout == text_part(ana)  # the preview is the text part sent
    assert "Countdown" in preview.stdout and "None" not in preview.stdout
    nothing = tracker(tmp_path, "--as-of", MONDAY, "digest", "--preview")
    assert nothing.stdout == "" and "no digest due now" in nothing.stderr

    forced_preview = tracker(tmp_path, "--as-of", MONDAY, "digest", "--preview", "--force",
                             "--subscriber", "ana@example.org")  # fmt: skip
    forced = run(tmp_path, server, "--as-of", MONDAY, "digest", "--send", "--force",
                 "--subscriber", "ana@example.org")  # fmt: skip

    assert "2026-11-23 for ana@example.org: resent (resend 1)" in forced
    assert "(1 resent)" in forced
    first, again = [m for m in server.mailbox.received if to(m) == "ana@example.org"]
    assert first["Message-ID"] != again["Message-ID"]
    assert forced_preview.stdout == text_part(again)
    assert len(server.mailbox.received) == 3  # bo had nothing resent


def test_a_subscriber_gets_the_weekly_digest_on_their_own_day_hour_and_zone(
    tmp_path: Path, smtp_server: StartServer
) -> None:
    server = smtp_server()
    run(tmp_path, server, "init")
    run(tmp_path, server, "--as-of", MONDAY, "subscriber", "add", "kenji@example.org",
        "--digest", "weekly", "--digest-day", "fri", "--digest-hour", "8",
        "--tz", "Asia/Tokyo")  # fmt: skip
    listed = run(tmp_path, server, "subscriber", "list")
    assert "weekly on friday at 08:00 Asia/Tokyo" in listed

    thursday = run(tmp_path, server, "--as-of", "2026-11-26T12:00+09:00", "digest", "--send")
    before = run(tmp_path, server, "--as-of", "2026-11-27T07:59+09:00", "digest", "--send")
    assert server.mailbox.received == []
    assert "recorded 0 digest(s)" in thursday and "recorded 0 digest(s)" in before

    friday = run(tmp_path, server, "--as-of", "2026-11-27T08:00+09:00", "digest", "--send")
    run(tmp_path, server, "--as-of", "2026-11-27T09:00+09:00", "digest", "--send")

    assert "2026-W48 for kenji@example.org: recorded" in friday
    assert [to(m) for m in server.mailbox.received] == ["kenji@example.org"]


def test_an_empty_digest_goes_only_to_those_who_asked_for_empty_digests(
    tmp_path: Path, smtp_server: StartServer
) -> None:
    server = smtp_server()
    run(tmp_path, server, "db", "upgrade")  # no seeds: nothing in anyone's digest
    run(tmp_path, server, "--as-of", "2026-11-20", "subscriber", "add", "quiet@example.org",
        "--digest", "daily")  # fmt: skip
    run(tmp_path, server, "--as-of", "2026-11-20", "subscriber", "add", "keen@example.org",
        "--digest", "daily", "--empty-digests")  # fmt: skip

    sent = run(tmp_path, server, "--as-of", MONDAY, "digest", "--send")

    assert "2026-11-23 for quiet@example.org: nothing new, not sent" in sent
    [keen] = server.mailbox.received
    assert to(keen) == "keen@example.org"
    assert "nothing new" in str(keen["Subject"]) and "Nothing new since" in text_part(keen)
    run(tmp_path, server, "subscriber", "edit", "quiet@example.org", "--empty-digests")
    run(tmp_path, server, "--as-of", MONDAY, "digest", "--send")
    assert len(server.mailbox.received) == 1  # that period was handled: not sent late
