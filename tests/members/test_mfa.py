"""Two-factor authentication: required for admins and leaders who sign in with
a password, optional for everyone else, not asked of SSO sign-ins."""

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.test import Client
from django.urls import reverse

from members.demo import DEMO_PASSWORD
from tests.pages import text_of

pytestmark = pytest.mark.django_db


def password_login(email: str) -> tuple[Client, object]:
    client = Client()
    response = client.post(reverse("account_login"), {"login": email, "password": DEMO_PASSWORD})
    return client, response


def current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


@pytest.mark.parametrize("email", ["ceo@example.com", "admin@example.com"])
def test_privileged_password_login_must_enrol(email):
    client, response = password_login(email)
    assert response.status_code == 302
    page = client.get(reverse("home"))
    assert page.status_code == 302
    assert page["Location"] == reverse("mfa_activate_totp")
    enrol = client.get(page["Location"], follow=True)
    assert "requires two-factor authentication" in text_of(enrol)


def test_employee_password_login_is_not_asked_for_mfa():
    client, _ = password_login("employee@example.com")
    page = client.get(reverse("home"))
    assert page.status_code == 200
    assert "Your PLN at a glance" in text_of(page)


def test_leader_with_totp_signs_in_with_a_code(persona_user):
    leader = persona_user("leader")
    secret = generate_totp_secret()
    TOTP.activate(leader, secret)
    client, response = password_login(leader.email)
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("home")).status_code == 302  # not signed in yet

    done = client.post(reverse("mfa_authenticate"), {"code": current_code(secret)})

    assert done.status_code == 302
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert "Hello, Cora Ellis" in text_of(home)


def test_leader_can_sign_in_with_a_recovery_code(persona_user):
    leader = persona_user("leader")
    TOTP.activate(leader, generate_totp_secret())
    codes = RecoveryCodes.activate(leader).get_unused_codes()
    client, _ = password_login(leader.email)
    client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert client.get(reverse("home")).status_code == 200
    # A recovery code works once.
    client2, _ = password_login(leader.email)
    again = client2.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert again.status_code == 200
    assert "Incorrect code" in text_of(again)


def test_sso_sign_in_relies_on_the_provider(persona_user):
    leader = persona_user("leader")
    client = Client()
    client.force_login(leader)
    session = client.session
    session["account_authentication_methods_user"] = str(leader.pk)
    session["account_authentication_methods"] = [{"method": "socialaccount", "provider": "openid_connect", "uid": "1"}]
    session.save()
    assert client.get(reverse("home")).status_code == 200


def test_admin_password_form_sends_people_to_the_site_sign_in():
    response = Client().get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"
