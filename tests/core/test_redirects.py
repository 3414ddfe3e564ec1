"""Return addresses: every view that takes a `next` from the request sends
people back there only when it stays on this site (core/redirects.py).

Each view below is asked to go back to another site, spelled two ways, and to
a page of ours; the first two land on the view's own fallback, the third where
it was asked to.
"""

from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from core import permissions as perm
from tests.factories import RecommendationFactory
from tests.pages import parse_page

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
ELSEWHERE = ["//evil.example", "https://evil.example"]
OURS = "/stream/?platform=mastodon"


def _entry_page(kwargs: dict) -> str:
    return reverse("feeds:entry", kwargs={"entry_id": kwargs["entry_id"]})


def _pack_page(kwargs: dict) -> str:
    return reverse("feeds:starter_pack", kwargs={"pack_id": kwargs["pack_id"]})


def _a_recipient(user) -> dict:
    from feeds.curation import recommendation_recipients

    return {"recipient": recommendation_recipients(member=user.member).values_list("pk", flat=True).first()}


def _no_data(user) -> dict:
    return {}


REPORTS = reverse("feeds:reports")
# URL name, persona, form data (from the signed-in user), fallback (from the URL's kwargs).
ACTIONS = [
    ("feeds:save", "employee", _no_data, _entry_page),
    ("feeds:unsave", "employee", _no_data, lambda kwargs: reverse("feeds:saved")),
    ("feeds:pick", "facilitator", lambda user: {"note": ""}, _entry_page),
    ("feeds:unpick", "facilitator", _no_data, _entry_page),
    ("feeds:recommend", "employee", _a_recipient, _entry_page),
    ("feeds:recommendation_dismiss", "employee", _no_data, lambda kwargs: reverse("home")),
    ("feeds:starter_pack_follow", "employee", _no_data, _pack_page),
    ("feeds:starter_pack_drop", "employee", _no_data, _pack_page),
    ("feeds:entry_hide", "facilitator", lambda user: {"reason": "off topic"}, lambda kwargs: REPORTS),
    ("feeds:entry_restore", "facilitator", _no_data, lambda kwargs: REPORTS),
    ("feeds:feed_hide", "facilitator", lambda user: {"reason": "off topic"}, lambda kwargs: REPORTS),
    ("feeds:feed_restore", "facilitator", _no_data, lambda kwargs: REPORTS),
    ("feeds:report_dismiss", "facilitator", _no_data, lambda kwargs: REPORTS),
    ("feeds:fetch_now", "employee", _no_data, lambda kwargs: reverse("feeds:my_pln")),
    (
        "workshops:clock_timer_start",
        "employee",
        lambda user: {"activity": "seek"},
        lambda kwargs: reverse("workshops:clock"),
    ),
    ("workshops:clock_timer_stop", "employee", _no_data, lambda kwargs: reverse("workshops:clock")),
    ("introductions_opt_in", "employee", lambda user: {"opt_in": "1"}, lambda kwargs: reverse("people_you_might_meet")),
]


def _action_url(name: str, user) -> tuple[str, dict]:
    if name == "feeds:recommendation_dismiss":
        RecommendationFactory(recipient=user.member)
    if name == "feeds:report_dismiss":
        from feeds.models import Entry, Report
        from feeds.moderation import report_create

        report_create(member=user.member, reason=Report.Reason.choices[0][0], entry=Entry.objects.shared().first())
    kwargs = perm.PERMISSIONS[name].sample(user)
    assert kwargs is not None, f"no sample for {name}"
    return reverse(name, kwargs=kwargs), kwargs


@pytest.mark.parametrize(("name", "persona", "data", "fallback"), ACTIONS, ids=[a[0] for a in ACTIONS])
@pytest.mark.parametrize("target", [*ELSEWHERE, OURS])
def test_actions_go_back_only_to_our_own_pages(name, persona, data, fallback, target, client_as, persona_user):
    user = persona_user(persona)
    url, kwargs = _action_url(name, user)

    response = client_as(persona).post(url, {**data(user), "next": target})

    expected = OURS if target == OURS else fallback(kwargs)
    assert (response.status_code, response["Location"]) == (302, expected)


@pytest.mark.parametrize(("target", "hidden"), [("//evil.example", ""), ("https://evil.example", ""), (OURS, OURS)])
def test_the_recommend_form_carries_only_our_own_return_address(target, hidden, client_as, persona_user):
    url, _kwargs = _action_url("feeds:recommend", persona_user("employee"))

    page = client_as("employee").get(f"{url}?{urlencode({'next': target})}")

    (form,) = [f for f in parse_page(page).forms if f["method"] == "post" and "recipient" in f["fields"]]
    assert form["fields"]["next"] == hidden


@pytest.mark.parametrize("target", [*ELSEWHERE, OURS])
def test_admin_login_sends_signed_in_staff_only_to_our_own_pages(target, client_as):
    response = client_as("admin").get(f"{reverse('admin_login')}?{urlencode({'next': target})}")

    expected = OURS if target == OURS else reverse("admin:index")
    assert (response.status_code, response["Location"]) == (302, expected)


@pytest.mark.parametrize("target", [*ELSEWHERE, OURS])
def test_admin_login_passes_only_our_own_pages_on_to_the_sign_in(target, client_as):
    response = client_as("anonymous").get(f"{reverse('admin_login')}?{urlencode({'next': target})}")

    expected = OURS if target == OURS else reverse("admin:index")
    assert (response.status_code, response["Location"]) == (
        302,
        f"{reverse('account_login')}?{urlencode({'next': expected})}",
    )


def test_no_view_reads_a_return_address_itself():
    """Reading `next` anywhere but core/redirects.py would bypass the check."""
    readers = []
    for folder in ("core", "members", "feeds", "workshops", "plnorg"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            if any(needle in text for needle in ('.get("next"', "['next']", '["next"]', "url_has_allowed_host")):
                readers.append(str(path.relative_to(ROOT)))
    assert readers == ["core/redirects.py"]


@pytest.mark.parametrize(("name", "persona", "data", "fallback"), ACTIONS, ids=[a[0] for a in ACTIONS])
def test_over_https_no_action_goes_back_over_plain_http(name, persona, data, fallback, client_as, persona_user):
    user = persona_user(persona)
    url, kwargs = _action_url(name, user)

    response = client_as(persona).post(url, {**data(user), "next": "http://testserver/stream/"}, secure=True)

    assert (response.status_code, response["Location"]) == (302, fallback(kwargs))
