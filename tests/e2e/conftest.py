"""Shared pieces for browser journeys (headless Chromium via Playwright).

Journeys run against pytest-django's `live_server` (DEBUG=0, STATIC_MANIFEST=0;
static files are served by the live server). `live_server` uses a committing
database that is flushed after each such test, so a journey builds its own
data with the factories and never relies on the demo organization.

Fixtures:
- `browser` (session): one Chromium for the whole run.
- `page`: a fresh browser context and page for one test, with `base_url` set
  to the live server (so `page.goto("/accounts/login/")` works) and a 10 s
  default timeout. Its console errors are collected in `page.console_errors`.

Helpers (import them: `from tests.e2e.conftest import login, send_outbox`):
- `login(page, live_server, email, password)`: sign in through the real form.
- `signed_in_page(browser, live_server, user)`: a new page already signed in
  as `user` (session made by Django's test client; no form, no MFA).
- `send_outbox()`: send every pending outbox email for real (as the worker
  would) and return the messages that went out.
- `screenshot(page, name)`: save tests/e2e/artifacts/<name>.png (git-ignored).
"""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM would
# otherwise refuse to run from it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DEFAULT_TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


def _new_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    return page


@pytest.fixture
def page(browser, live_server):
    page = _new_page(browser, live_server)
    yield page
    page.context.close()


def signed_in_page(browser, live_server, user):
    """A new page signed in as `user` (close it with `page.context.close()`)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    page = _new_page(browser, live_server)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return page


def login(page, live_server, email: str, password: str) -> None:
    """Sign in through the sign-in form; returns once the next page loaded."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign In").click()


def send_outbox() -> list:
    """Send every pending outbox email now and return the sent messages
    (django.core.mail.EmailMessage, newest last)."""
    from django.core import mail

    from members.models import OutboundEmail
    from members.outbox import email_send

    before = len(mail.outbox)
    pending = OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING).order_by("created_at", "pk")
    for email_id in pending.values_list("pk", flat=True):
        email_send(email_id=email_id)
    return list(mail.outbox[before:])


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
