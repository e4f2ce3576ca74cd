"""Self-service subscriptions: /subscribe, /confirm, /preferences and /unsubscribe.

The server's only write endpoints (POST). GET shows a page with a button or a form, so a
link scanner following a link changes nothing; every POST carries a CSRF token bound to
its form, except the RFC 8058 one-click unsubscribe, whose signed token is the proof.
Sign-ups are throttled per address and per client, preferences per address and client;
an unsubscribe never is (mail providers post one-clicks from shared addresses).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from tracker.alerts import signup, tokens
from tracker.alerts.digests import WEEKDAYS
from tracker.db import transaction
from tracker.errors import InvalidInput
from tracker.notifiers.base import Recipient
from tracker.web import forms
from tracker.web.forms import FormRefused
from tracker.web.subscription_choices import Choices, fields_from, form_context

if TYPE_CHECKING:
    from jinja2 import Environment
    from sqlalchemy.orm import Session, sessionmaker
    from starlette.datastructures import FormData
    from starlette.routing import BaseRoute

    from tracker.alerts.models import Subscriber
    from tracker.clock import Clock
    from tracker.settings import Settings

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the page's address holds its token
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
}
ONE_CLICK = ("List-Unsubscribe", "One-Click")


@cache
def _environment() -> Environment:
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("tracker.web", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _environment().get_template(template).render(context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def refused(exc: FormRefused | InvalidInput, status: int = 400) -> HTMLResponse:
    code = exc.status if isinstance(exc, FormRefused) else status
    return page("message.html", code, title="Not done", sentence=str(exc))


def routes(settings: Settings, sessions: sessionmaker[Session], clock: Clock) -> list[BaseRoute]:
    signing = tokens.from_settings(settings)
    server = settings.server
    expiry = timedelta(hours=server.signup_expiry_hours)
    base = settings.feeds.base_url.rstrip("/")
    links = signing.links(base)

    def treaties() -> list[tuple[str, str]]:
        from sqlalchemy import select

        from tracker.catalog.treaties import Treaty

        with sessions() as session:
            return [
                (t.slug, t.short_name)
                for t in session.scalars(select(Treaty).order_by(Treaty.short_name))
            ]

    def form_page(
        template: str, choices: Choices, purpose: str, now: datetime, status: int = 200, **more: Any
    ) -> HTMLResponse:
        context = form_context(choices, treaties(), settings)
        csrf = forms.csrf_token(signing, purpose, now)
        return page(template, status, csrf=csrf, weekdays=WEEKDAYS, **context, **more)

    def throttled(key: str, limit: int, now: datetime) -> None:
        if not forms.hit(sessions, key, limit, now):
            raise FormRefused(
                429, "Too many requests from here or for this address: try again in an hour."
            )

    def client(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def subscriber(
        purpose: tokens.Purpose, token: str, now: datetime, max_age: timedelta | None = None
    ) -> Subscriber:
        with sessions() as session:
            sub = signup.by_token(session, signing, purpose, token, now, max_age)
            session.expunge(sub)
        return sub

    # /subscribe

    def subscribe_form(request: Request) -> Response:
        now = clock.now()
        return form_page("subscribe.html", Choices.defaults(settings), "subscribe", now)

    def subscribe_sync(form: FormData, host: str) -> Response:
        now = clock.now()
        choices = Choices.of_form(form)
        try:
            forms.check_csrf(signing, "subscribe", _one(form, "csrf"), now)
            throttled(forms.throttle_key(signing, "client", host), server.form_hits_per_client, now)
            from tracker.alerts.subscribers import address

            email = address(choices.email, international=settings.smtp.smtputf8)
            fields = fields_from(choices)
            throttled(
                forms.throttle_key(signing, "address", email), server.form_hits_per_address, now
            )
            with transaction(sessions) as session:
                done = signup.sign_up(
                    session,
                    email,
                    fields,
                    now=now,
                    expiry=expiry,
                    international=settings.smtp.smtputf8,
                )
                if done.needs_confirmation:
                    from tracker.outbox.confirmation_notices import record_confirmation

                    sub = done.subscriber
                    link = f"{base}/confirm/{signing.sign('confirm', sub.id, sub.email, now)}"
                    record_confirmation(session, sub, link, server.signup_expiry_hours, now)
        except FormRefused as exc:
            if exc.status == 400:  # the form expired: a fresh one, with what they typed
                return form_page("subscribe.html", choices, "subscribe", now, 400, error=str(exc))
            return refused(exc)
        except InvalidInput as exc:
            return form_page("subscribe.html", choices, "subscribe", now, 400, error=str(exc))
        except IntegrityError:
            pass  # the same address signed up at the same moment: that one mails them
        return page(
            "message.html",
            title="Check your email",
            sentence=(
                f"If {email} can be subscribed, a confirmation link is on its way there: "
                f"follow it within {server.signup_expiry_hours} hours to start receiving email."
            ),
        )

    # /confirm/<token>

    def confirm_page(request: Request) -> Response:
        now, token = clock.now(), request.path_params["token"]
        try:
            sub = subscriber("confirm", token, now, expiry)
        except InvalidInput as exc:
            return refused(exc)
        return page(
            "confirm.html",
            email=sub.email,
            csrf=forms.csrf_token(signing, f"confirm:{sub.id}", now),
        )

    def confirm_sync(form: FormData, token: str, host: str) -> Response:
        now = clock.now()
        try:
            sub = subscriber("confirm", token, now, expiry)
            forms.check_csrf(signing, f"confirm:{sub.id}", _one(form, "csrf"), now)
            throttled(forms.throttle_key(signing, "client", host), server.form_hits_per_client, now)
            with transaction(sessions) as session:
                sub = signup.confirm(session, signing, token, now, expiry)
                email, mine = sub.email, links(Recipient(sub.email, subscriber_id=sub.id))
        except (FormRefused, InvalidInput) as exc:
            return refused(exc)
        return page("done.html", title="Subscribed", email=email, links=mine, confirmed=True)

    # /preferences/<token>

    def preferences_page(request: Request) -> Response:
        now = clock.now()
        try:
            sub = subscriber("preferences", request.path_params["token"], now)
        except InvalidInput as exc:
            return refused(exc)
        return form_page(
            "preferences.html", Choices.of(sub, settings), f"preferences:{sub.id}", now, sub=sub
        )

    def preferences_sync(form: FormData, token: str, host: str) -> Response:
        now = clock.now()
        try:
            sub = subscriber("preferences", token, now)
        except InvalidInput as exc:
            return refused(exc)
        choices = Choices.of_form(form, email=sub.email)
        purpose = f"preferences:{sub.id}"
        try:
            forms.check_csrf(signing, purpose, _one(form, "csrf"), now)
            throttled(forms.throttle_key(signing, "client", host), server.form_hits_per_client, now)
            throttled(
                forms.throttle_key(signing, "address", sub.email), server.form_hits_per_address, now
            )
            fields = fields_from(choices)
            with transaction(sessions) as session:
                signup.change(
                    session, signup.by_token(session, signing, "preferences", token, now), fields
                )
        except FormRefused as exc:
            if exc.status == 400:
                return form_page(
                    "preferences.html", choices, purpose, now, 400, sub=sub, error=str(exc)
                )
            return refused(exc)
        except InvalidInput as exc:
            return form_page(
                "preferences.html", choices, purpose, now, 400, sub=sub, error=str(exc)
            )
        return form_page("preferences.html", choices, purpose, now, sub=sub, saved=True)

    # /unsubscribe/<token>

    def unsubscribe_page(request: Request) -> Response:
        now = clock.now()
        try:
            sub = subscriber("unsubscribe", request.path_params["token"], now)
        except InvalidInput as exc:
            return refused(exc)
        csrf = forms.csrf_token(signing, f"unsubscribe:{sub.id}", now)
        return page(
            "unsubscribe.html", email=sub.email, csrf=csrf, gone=sub.unsubscribed_at is not None
        )

    def unsubscribe_sync(form: FormData, token: str) -> Response:
        now = clock.now()
        try:
            sub = subscriber("unsubscribe", token, now)
            if form.get(ONE_CLICK[0]) != ONE_CLICK[1]:  # RFC 8058: the signed token is the proof
                forms.check_csrf(signing, f"unsubscribe:{sub.id}", _one(form, "csrf"), now)
            with transaction(sessions) as session:
                sub = signup.unsubscribe(session, signing, token, now)
                email, mine = sub.email, links(Recipient(sub.email, subscriber_id=sub.id))
        except (FormRefused, InvalidInput) as exc:
            return refused(exc)
        return page("done.html", title="Unsubscribed", email=email, links=mine, confirmed=False)

    async def subscribe(request: Request) -> Response:
        if request.method != "POST":
            return subscribe_form(request)
        try:
            form = await forms.read_form(request)
        except FormRefused as exc:
            return refused(exc)
        return await run_in_threadpool(subscribe_sync, form, client(request))

    def with_token(get: Any, post: Any, host: bool) -> Any:
        async def endpoint(request: Request) -> Response:
            if request.method != "POST":
                return await run_in_threadpool(get, request)
            try:
                form = await forms.read_form(request)
            except FormRefused as exc:
                return refused(exc)
            args = (
                (request.path_params["token"], client(request))
                if host
                else (request.path_params["token"],)
            )
            return await run_in_threadpool(post, form, *args)

        return endpoint

    methods = ["GET", "HEAD", "POST"]
    return [
        Route("/subscribe", subscribe, methods=methods),
        Route("/confirm/{token}", with_token(confirm_page, confirm_sync, True), methods=methods),
        Route(
            "/preferences/{token}",
            with_token(preferences_page, preferences_sync, True),
            methods=methods,
        ),
        Route(
            "/unsubscribe/{token}",
            with_token(unsubscribe_page, unsubscribe_sync, False),
            methods=methods,
        ),
    ]


def _one(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None
