"""Header walk: every crawled response carries the security headers; HTTPS adds HSTS and Secure cookies."""

import pytest
from django.test import Client
from django.urls import reverse

from members.demo import DEMO_PASSWORD, demo_email
from tests.checks.conftest import report
from tests.checks.crawler import header_problems, make_client

pytestmark = pytest.mark.django_db

HTTPS = {"secure": True, "HTTP_X_FORWARDED_PROTO": "https"}


def test_every_crawled_response_has_the_security_headers(crawl):
    problems = {}
    count = 0
    for c in crawl.values():
        for page in c.pages:
            count += 1
            for problem in header_problems(page.headers):
                problems.setdefault(f"{page.view_name or page.url}: {problem}", f"{page.persona} {page.url}")
    report(f"Header walk: {count} responses")
    assert [f"{k} (e.g. {v})" for k, v in sorted(problems.items())] == []


def test_error_pages_have_the_security_headers(settings, monkeypatch, persona_user):
    from core import permissions as perm
    from tests.checks.broken_urls import BROKEN_PAGES

    settings.ROOT_URLCONF = "tests.checks.broken_urls"
    monkeypatch.setitem(perm.PERMISSIONS, "checks_500", BROKEN_PAGES["checks_500"])
    anonymous, employee = make_client(None), make_client(persona_user("employee"))
    responses = {
        403: employee.get(reverse("dashboard")),
        404: anonymous.get("/no-such-page-anywhere/"),
        500: anonymous.get("/__checks__/500/"),
    }
    assert {status: r.status_code for status, r in responses.items()} == {403: 403, 404: 404, 500: 500}
    assert {status: header_problems(dict(r.headers)) for status, r in responses.items()} == {403: [], 404: [], 500: []}


@pytest.fixture
def https_settings(settings):
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000
    return settings


def test_over_https_sign_in_page_sends_hsts_and_a_secure_csrf_cookie(https_settings):
    client = Client()
    response = client.get(reverse("account_login"), **HTTPS)
    assert response.status_code == 200
    assert header_problems(dict(response.headers), https=True) == []
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert response.cookies["csrftoken"]["secure"] is True


def test_over_https_signing_in_sets_secure_session_and_csrf_cookies(https_settings):
    client = Client()
    client.get(reverse("account_login"), **HTTPS)
    response = client.post(
        reverse("account_login"), {"login": demo_email("employee"), "password": DEMO_PASSWORD}, **HTTPS
    )
    assert response.status_code == 302, response.content.decode()[:500]
    assert response["Location"] == reverse("home")
    assert header_problems(dict(response.headers), https=True) == []
    assert response.cookies["sessionid"]["secure"] is True
    assert response.cookies["csrftoken"]["secure"] is True  # rotated on sign-in
    home = client.get(reverse("home"), **HTTPS)
    assert home.status_code == 200
    assert header_problems(dict(home.headers), https=True) == []
