"""A subscriber's choices as the subscription forms show and post them.

Checked as the CLI checks them (:func:`tracker.alerts.subscribers.values`): the same
treaties, kinds, lead times, digest schedule and zone are accepted or refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tracker.alerts import subscribers
from tracker.catalog.queries import KINDS

if TYPE_CHECKING:
    from starlette.datastructures import FormData

    from tracker.alerts.models import Subscriber
    from tracker.settings import Settings

FREQUENCIES = (
    ("weekly", "Weekly"),
    ("daily", "Daily"),
    ("none", "No digest"),
)


@dataclass(frozen=True)
class Choices:
    """What the form holds, as typed (text), so a refused form is shown again as it was."""

    email: str = ""
    treaties: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    immediate: bool = False
    leads: str = ""
    digest: str = "weekly"
    digest_day: str = "monday"
    digest_hour: str = "8"
    tz: str = "UTC"

    @classmethod
    def defaults(cls, settings: Settings) -> Choices:
        return cls(
            digest_day=settings.digest.weekday,
            digest_hour=str(settings.digest.local_hour),
            tz=settings.timezone,
        )

    @classmethod
    def of(cls, sub: Subscriber, settings: Settings) -> Choices:
        return cls(
            email=sub.email,
            treaties=tuple(sub.treaties),
            kinds=tuple(sub.kinds),
            immediate=sub.immediate,
            leads=sub.leads or "",
            digest=sub.digest,
            digest_day=sub.digest_day or settings.digest.weekday,
            digest_hour=str(
                sub.digest_hour if sub.digest_hour is not None else settings.digest.local_hour
            ),
            tz=sub.tz,
        )

    @classmethod
    def of_form(cls, form: FormData, email: str | None = None) -> Choices:
        def text(name: str, default: str = "") -> str:
            value = form.get(name)
            return value.strip()[:200] if isinstance(value, str) else default

        def many(name: str) -> tuple[str, ...]:
            return tuple(v[:120] for v in form.getlist(name) if isinstance(v, str))

        return cls(
            email=email if email is not None else text("email"),
            treaties=many("treaty"),
            kinds=many("kind"),
            immediate=form.get("immediate") is not None,
            leads=text("leads"),
            digest=text("digest", "weekly"),
            digest_day=text("digest_day", "monday"),
            digest_hour=text("digest_hour", "8"),
            tz=text("tz", "UTC"),
        )


def fields_from(choices: Choices) -> dict[str, Any]:
    """The column values of ``choices``, or InvalidInput saying what is wrong in one line."""
    weekly = choices.digest == "weekly"
    return subscribers.values(
        tz=choices.tz or "UTC",
        digest=choices.digest,
        immediate=choices.immediate,
        treaties=choices.treaties,
        kinds=choices.kinds,
        leads=choices.leads,
        # A day is a weekly digest's; otherwise any stored one is forgotten.
        digest_day=choices.digest_day if weekly else "default",
        digest_hour=choices.digest_hour or "default",
    )


def form_context(
    choices: Choices, treaties: list[tuple[str, str]], settings: Settings
) -> dict[str, Any]:
    """What the form templates show: the choices and what can be chosen."""
    return {
        "choices": choices,
        "treaties": treaties,
        "kinds": [(kind, kind.replace("-", " ")) for kind in KINDS],
        "frequencies": FREQUENCIES,
        "hours": [str(hour) for hour in range(24)],
        "default_leads": ", ".join(
            sorted(set(settings.alerts.deadline_leads) | set(settings.alerts.meeting_leads))
        ),
    }
