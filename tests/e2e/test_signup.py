"""Browser journey: a newcomer signs up, follows the emailed link, confirms,
signs in and sees their home page."""

import re

import pytest
from allauth.account.models import EmailAddress

from members.models import Member, OutboundEmail
from tests.e2e.conftest import login, screenshot, send_outbox

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120), pytest.mark.django_db(transaction=True)]

EMAIL = "newcomer.nia@example.com"
PASSWORD = "a long and private passphrase"


def test_newcomer_signs_up_confirms_and_reaches_home(page, live_server):
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign up").click()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    screenshot(page, "signup-1-form")
    page.get_by_role("button", name="Sign Up").click()

    page.wait_for_url("**/accounts/confirm-email/")
    assert page.get_by_role("heading", level=1).inner_text() == "Verify Your Email Address"
    screenshot(page, "signup-2-verification-sent")
    assert OutboundEmail.objects.get(to=EMAIL).status == "pending"

    (message,) = send_outbox()
    assert message.to == [EMAIL]
    assert message.subject == "[plnorg] Confirm your email address"
    (link,) = re.findall(r"http://\S+/accounts/confirm-email/\S+/", message.body)
    assert link.startswith(live_server.url)

    page.goto(link)
    assert page.get_by_role("heading", level=1).inner_text() == "Confirm Email Address"
    screenshot(page, "signup-3-confirm")
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/accounts/login/")
    assert EmailAddress.objects.get(email=EMAIL).verified is True

    login(page, live_server, EMAIL, PASSWORD)

    assert page.url == f"{live_server.url}/home/"
    assert page.get_by_role("heading", level=1).inner_text() == "Hello, Newcomer Nia"
    assert page.get_by_role("heading", name="Your PLN at a glance").is_visible()
    assert "No accounts yet." in page.inner_text("main")
    screenshot(page, "signup-4-home")
    assert Member.objects.get(user__email=EMAIL).display_name == "Newcomer Nia"
    assert page.console_errors == []
