"""CSRF walk: every POST form the crawler found refuses a request without a token."""

import pytest

from core import permissions as perm
from tests.checks.conftest import report
from tests.checks.crawler import csrf_client, csrf_exempt_url_names, csrf_problem, persona_users, post_forms

pytestmark = pytest.mark.django_db


def test_every_post_form_refuses_a_request_without_a_token(crawl):
    clients = {persona: csrf_client(user) for persona, user in persona_users().items()}
    forms = post_forms(crawl)
    problems = [p for persona, form in forms if (p := csrf_problem(form, persona=persona, client=clients[persona]))]
    report(f"CSRF walk: {len(forms)} POST forms (one per role and view posted to) sent without a token")
    assert forms, "the crawler found no POST form at all"
    assert problems == []


def test_csrf_exemptions_are_exactly_the_declared_ones():
    """The one list of exemptions (core.permissions) matches the views marked @csrf_exempt."""
    assert csrf_exempt_url_names() == set(perm.CSRF_EXEMPT_URL_NAMES)


def test_each_csrf_exemption_is_a_declared_page():
    assert [name for name in perm.CSRF_EXEMPT_URL_NAMES if perm.access_for(name) is None] == []
