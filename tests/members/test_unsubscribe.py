"""Signed, expiring unsubscribe links and RFC 8058 one-click POST without a session."""

from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from core.permissions import CSRF_EXEMPT_URL_NAMES
from members.notifications import list_unsubscribe_headers, unsubscribe_url
from members.tokens import SALT, unsubscribe_token_make
from tests.factories import MemberFactory
from tests.pages import text_of

pytestmark = pytest.mark.django_db


def test_headers_name_the_signed_link_and_one_click(settings):
    settings.SITE_URL = "https://pln.example.com"
    member = MemberFactory()

    headers = list_unsubscribe_headers(member, "recommendations")

    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"].startswith("<https://pln.example.com/unsubscribe/")
    assert headers["List-Unsubscribe"] == f"<{unsubscribe_url(member, 'recommendations')}>"


def test_get_shows_a_confirmation_and_changes_nothing():
    member = MemberFactory(digest="daily")
    url = reverse("members:unsubscribe", kwargs={"token": unsubscribe_token_make(member=member, kind="digest")})

    page = text_of(Client().get(url))

    member.refresh_from_db()
    assert f"Stop sending {member.user.email} this kind of email" in page
    assert member.digest == "daily"


def test_one_click_post_without_session_or_csrf_token_unsubscribes():
    member = MemberFactory(digest="weekly")
    token = unsubscribe_token_make(member=member, kind="digest")
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("members:unsubscribe", kwargs={"token": token}), {"List-Unsubscribe": "One-Click"})

    member.refresh_from_db()
    assert response.status_code == 200
    assert (member.digest, member.email_opt_outs) == ("off", ["digest"])
    assert "members:unsubscribe" in CSRF_EXEMPT_URL_NAMES


def test_tampered_token_is_refused_with_a_clear_message():
    member = MemberFactory()
    token = unsubscribe_token_make(member=member, kind="introductions")
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")

    response = Client().post(reverse("members:unsubscribe", kwargs={"token": tampered}))

    member.refresh_from_db()
    assert response.status_code == 400
    assert "This unsubscribe link is not valid: it may have been cut or changed." in text_of(response)
    assert member.email_opt_outs == []


def test_expired_token_is_refused_with_a_clear_message(monkeypatch):
    import time

    member = MemberFactory()
    token = unsubscribe_token_make(member=member, kind="introductions")
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + timedelta(days=61).total_seconds())

    response = Client().post(reverse("members:unsubscribe", kwargs={"token": token}))

    member.refresh_from_db()
    assert response.status_code == 400
    assert "This unsubscribe link has expired (links work for 60 days)." in text_of(response)
    assert member.email_opt_outs == []


def test_token_for_an_unknown_kind_is_refused():
    member = MemberFactory()
    token = signing.dumps({"m": member.pk, "k": "password_reset"}, salt=SALT, compress=True)

    response = Client().post(reverse("members:unsubscribe", kwargs={"token": token}))

    assert response.status_code == 400
    assert "This unsubscribe link is not valid." in text_of(response)
