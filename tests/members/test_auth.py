"""Accounts by email and password: sign-up with verification, sign-up domains,
login throttling, deactivated users (who cannot sign in by any route)."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from members.models import Member, OutboundEmail, User
from members.outbox import email_send
from tests.factories import UserFactory
from tests.pages import parse_page, text_of

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a long new passphrase 42"


def sign_up(client: Client, email: str, password: str = NEW_PASSWORD):
    return client.post(reverse("account_signup"), {"email": email, "password1": password, "password2": password})


def log_in(client: Client, email: str, password: str):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def confirmation_link(outbox_row: OutboundEmail) -> str:
    """Send the outbox row for real and return the link in the sent email."""
    assert email_send(email_id=outbox_row.pk) is True
    (message,) = mail.outbox
    (link,) = re.findall(r"http://testserver(/accounts/confirm-email/[^/\s]+/)", message.body)
    return link


def test_signup_verify_login_reaches_home():
    client = Client()

    signed_up = sign_up(client, "newbie@example.com")

    assert signed_up.status_code == 302
    assert signed_up["Location"] == reverse("account_email_verification_sent")
    sent_page = client.get(signed_up["Location"])
    assert "Verify Your Email Address We have sent an email to you for verification." in text_of(sent_page)
    user = User.objects.get(email="newbie@example.com")
    assert Member.objects.get(user=user).display_name == "Newbie"
    assert EmailAddress.objects.get(user=user).verified is False
    row = OutboundEmail.objects.get(to="newbie@example.com")
    assert (row.kind, row.status, row.user_id) == ("email_confirmation_signup", "pending", user.pk)
    assert row.subject == "[plnorg] Confirm your email address"

    link = confirmation_link(row)

    (message,) = mail.outbox
    assert message.to == ["newbie@example.com"]
    assert message.subject == "[plnorg] Confirm your email address"
    assert message.body.startswith("Hello from plnorg,")
    assert OutboundEmail.objects.get(pk=row.pk).status == "sent"
    confirm_page = client.get(link)
    assert "Confirm Email Address Please confirm that newbie@example.com is an email address" in text_of(confirm_page)
    assert EmailAddress.objects.get(user=user).verified is False  # GET alone confirms nothing

    confirmed = client.post(link)

    assert confirmed.status_code == 302
    assert confirmed["Location"] == reverse("account_login")
    assert EmailAddress.objects.get(user=user).verified is True
    logged_in = log_in(client, "newbie@example.com", NEW_PASSWORD)
    assert logged_in.status_code == 302
    assert logged_in["Location"] == reverse("home")
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert "Your PLN at a glance" in text_of(home)
    assert "Hello, Newbie" in text_of(home)


def test_unverified_email_cannot_log_in():
    client = Client()
    sign_up(client, "pending@example.com")
    client.logout()
    sent_before = OutboundEmail.objects.filter(to="pending@example.com").count()

    response = log_in(client, "pending@example.com", NEW_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "Verify Your Email Address We have sent an email to you for verification." in text_of(
        client.get(response["Location"])
    )
    assert client.get(reverse("home"))["Location"] == "/accounts/login/?next=/home/"
    assert "_auth_user_id" not in client.session
    # allauth would re-send the verification email on such a login, but not
    # within 3 minutes of the last one (its "confirm_email" rate limit).
    assert OutboundEmail.objects.filter(to="pending@example.com").count() == sent_before == 1


def test_signup_outside_signup_domains_is_refused(settings):
    settings.SIGNUP_DOMAINS = ["example.com"]

    response = sign_up(Client(), "someone@gmail.test")

    assert response.status_code == 200
    assert "Sign-up is limited to addresses at example.com. Use your work email address." in text_of(response)
    assert not User.objects.filter(email="someone@gmail.test").exists()
    assert not OutboundEmail.objects.filter(to="someone@gmail.test").exists()


def test_signup_domain_added_by_an_admin_is_accepted(settings):
    from members.models import OrganizationSettings

    settings.SIGNUP_DOMAINS = ["example.com"]
    org = OrganizationSettings.get()
    org.signup_domains = "subsidiary.test"
    org.save()

    refused = sign_up(Client(), "someone@gmail.test")
    accepted = sign_up(Client(), "someone@subsidiary.test")

    assert "Sign-up is limited to addresses at example.com, subsidiary.test." in text_of(refused)
    assert accepted["Location"] == reverse("account_email_verification_sent")
    assert User.objects.filter(email="someone@subsidiary.test").exists()


def test_sixth_wrong_password_in_a_row_is_throttled():
    user = UserFactory(email="target@example.com")
    client = Client()

    fifth = None
    for _attempt in range(5):
        fifth = log_in(client, user.email, "wrong password")
    sixth = log_in(client, user.email, "wrong password")
    even_right = log_in(client, user.email, PASSWORD)

    assert fifth.status_code == 200
    assert "The email address and/or password you specified are not correct." in text_of(fifth)
    assert "Too many failed login attempts" not in text_of(fifth)
    assert sixth.status_code == 200
    assert "Too many failed login attempts. Try again later." in text_of(sixth)
    assert "Too many failed login attempts. Try again later." in text_of(even_right)
    assert "_auth_user_id" not in client.session


def test_throttle_is_kept_in_the_redis_cache():
    from django.core.cache import cache

    UserFactory(email="counted@example.com")
    log_in(Client(), "counted@example.com", "wrong password")

    keys = cache.keys("*allauth*login_failed*")
    assert len(keys) >= 1
    assert cache.client.get_client().ping() is True


def test_deactivated_user_cannot_log_in_with_password():
    UserFactory(email="gone@example.com", is_active=False)
    client = Client()

    response = log_in(client, "gone@example.com", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_inactive")
    page = client.get(response["Location"])
    assert "This account is inactive." in text_of(page)
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("home"))["Location"] == "/accounts/login/?next=/home/"


def test_deactivated_user_with_wrong_password_learns_nothing():
    UserFactory(email="gone2@example.com", is_active=False)

    response = log_in(Client(), "gone2@example.com", "wrong password")

    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in text_of(response)


def test_deactivating_a_signed_in_user_ends_their_session():
    user = UserFactory(email="leaving@example.com")
    client = Client()
    log_in(client, user.email, PASSWORD)
    assert client.get(reverse("home")).status_code == 200

    User.objects.filter(pk=user.pk).update(is_active=False)

    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/home/"


def test_deactivated_user_cannot_sign_in_after_a_password_reset():
    UserFactory(email="reset@example.com", is_active=False)
    client = Client()

    client.post(reverse("account_reset_password"), {"email": "reset@example.com"})

    # No reset link goes to a deactivated account; allauth sends its
    # "unknown account" notice instead, and nothing can sign in.
    row = OutboundEmail.objects.get(to="reset@example.com")
    assert row.kind == "unknown_account"
    assert "/accounts/password/reset/key/" not in row.body_text
    assert "_auth_user_id" not in client.session


def test_admin_site_is_for_admins_only(client_as):
    employee_page = client_as("employee").get("/admin/")
    admin_user_client = client_as("admin")

    admin_page = admin_user_client.get("/admin/")

    assert employee_page.status_code == 302
    assert employee_page["Location"] == "/admin/login/?next=/admin/"
    assert admin_page.status_code == 200
    assert "Site administration" in text_of(admin_page)


def test_login_page_offers_sign_up_and_reset():
    page = Client().get(reverse("account_login"))

    links = parse_page(page).links
    assert reverse("account_signup") in " ".join(links)
    assert reverse("account_reset_password") in links
