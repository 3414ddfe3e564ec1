"""The checks themselves: each one fails on a deliberately broken page.

The broken pages live in tests/checks/broken_urls.py, a URLconf that is the
whole site plus those pages; it is switched on for these tests only, and
their permission-map entries are added only while a test runs.
"""

import pytest

from core import permissions as perm
from feeds.demo import CONSENT_CANARY
from tests.checks.a11y import a11y_check_pages
from tests.checks.broken_urls import BROKEN_PAGES
from tests.checks.crawler import (
    Form,
    check_url,
    csrf_exempt_url_names,
    csrf_problem,
    forms_of,
    header_problems,
    make_client,
    parse_html,
    unmapped_routes,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def broken_site(settings, monkeypatch):
    settings.ROOT_URLCONF = "tests.checks.broken_urls"
    for name, access in BROKEN_PAGES.items():
        monkeypatch.setitem(perm.PERMISSIONS, name, access)
    return make_client(None)


def test_a_sound_page_passes_every_check(broken_site):
    page = check_url(broken_site, "/__checks__/sound/", persona="anonymous")
    assert page.status == 200
    assert page.problems == []
    assert header_problems(page.headers) == []


def test_a_page_without_a_permission_map_entry_is_flagged(broken_site):
    assert unmapped_routes() == ["__checks__/unmapped/ (checks_unmapped)"]
    page = check_url(broken_site, "/__checks__/unmapped/", persona="anonymous")
    assert page.status == 403
    assert page.problems == [
        "anonymous /__checks__/unmapped/: checks_unmapped has no permission-map entry (answered 403)"
    ]


def test_a_server_error_is_flagged(broken_site):
    page = check_url(broken_site, "/__checks__/500/", persona="anonymous")
    assert page.status == 500
    assert page.problems == [
        "anonymous /__checks__/500/: expected 200, got 500 (RuntimeError: a deliberate error for the page checks)"
    ]


def test_a_missing_empty_state_is_flagged(broken_site):
    page = check_url(broken_site, "/__checks__/no-empty-state/", persona="anonymous")
    assert page.problems == [
        "anonymous /__checks__/no-empty-state/: empty list 'No things yet' shows no visible empty state"
    ]


def test_an_empty_list_needs_a_visible_message():
    from tests.checks.crawler import empty_list_problems

    shown = parse_html("<ul data-list data-empty-state='None'><li class='empty-state'>Nothing yet. Add one.</li></ul>")
    after = parse_html("<ul data-list data-empty-state='None'></ul>\n<p class='empty-state'>Nothing yet.</p>")
    blank = parse_html("<ul data-list data-empty-state='None'><li class='empty-state'> </li></ul>")
    undeclared = parse_html("<ol data-list></ol>")
    assert empty_list_problems(shown) == []
    assert empty_list_problems(after) == []
    assert empty_list_problems(blank) == ["empty list 'None' shows no visible empty state"]
    assert empty_list_problems(undeclared) == ["empty list <ol data-list> ('ol') has no data-empty-state message"]


def test_unfinished_wording_is_flagged_in_visible_text_only():
    from tests.checks import crawler

    html = "<p title='TODO'>Done</p><input placeholder='Search'><p>Lorem ipsum</p>"
    found = [m.group(0) for m in crawler.FORBIDDEN_WORDS.finditer(crawler.text_of(html))]
    assert found == ["Lorem"]


def test_a_leaked_private_title_is_flagged_for_everyone_but_its_owner(broken_site):
    page = check_url(broken_site, "/__checks__/canary/", persona="anonymous")
    assert page.problems == [
        f"anonymous /__checks__/canary/: shows the consent canary {CONSENT_CANARY!r} (a private title of victor)"
    ]
    owner_page = check_url(broken_site, "/__checks__/canary/", persona="owner", owner="owner")
    assert owner_page.problems == []


def test_a_form_without_csrf_protection_is_flagged(broken_site):
    page = check_url(broken_site, "/__checks__/unprotected-form/", persona="anonymous")
    [form] = page.forms
    assert form == Form("/__checks__/unprotected-form/", "/__checks__/unprotected-post/", "post", (("name", "a"),))
    assert csrf_problem(form, persona="anonymous") == (
        "anonymous: the form on /__checks__/unprotected-form/ posting to /__checks__/unprotected-post/ "
        "was accepted without a CSRF token (answered 200)"
    )
    # ...and the exemption is not in the one declared list, which the exemption test catches.
    assert csrf_exempt_url_names() - set(perm.CSRF_EXEMPT_URL_NAMES) == {"checks_unprotected_post"}


def test_a_protected_form_passes_the_csrf_check(broken_site):
    page = check_url(broken_site, "/accounts/login/", persona="anonymous")
    [form] = [f for f in page.forms if f.method == "post"]
    assert csrf_problem(form, persona="anonymous") is None


def test_a_missing_security_header_is_flagged(broken_site):
    page = check_url(broken_site, "/__checks__/no-headers/", persona="anonymous")
    assert page.problems == []
    assert header_problems(page.headers) == [
        "no Content-Security-Policy",
        "may be framed: neither frame-ancestors 'none' nor X-Frame-Options: DENY",
    ]
    assert header_problems({**page.headers, "content-security-policy": "script-src 'self' 'unsafe-inline'"}) == [
        "Content-Security-Policy allows 'unsafe-inline'",
        "may be framed: neither frame-ancestors 'none' nor X-Frame-Options: DENY",
    ]


def test_forms_are_read_with_their_fields():
    root = parse_html(
        "<form method='POST'><input type='hidden' name='csrfmiddlewaretoken' value='t'>"
        "<input type='checkbox' name='a' value='1' checked><input type='checkbox' name='b' value='2'>"
        "<select name='s'><option value='x'>X</option><option value='y' selected>Y</option></select>"
        "<textarea name='t'>hi</textarea></form>"
    )
    [form] = forms_of(root, "/here/")
    assert form == Form("/here/", "/here/", "post", (("csrfmiddlewaretoken", "t"), ("a", "1"), ("s", "y"), ("t", "hi")))


@pytest.mark.timeout(120)
def test_a_serious_accessibility_violation_is_flagged(checks_server):
    results, _seconds = a11y_check_pages(
        checks_server, [("anonymous", "/__checks__/inaccessible/"), ("anonymous", "/__checks__/sound/")]
    )
    inaccessible, sound = results
    assert inaccessible.status == 200
    assert [v.split(" (")[0] for v in inaccessible.violations] == [
        "anonymous /__checks__/inaccessible/: critical image-alt",
        "anonymous /__checks__/inaccessible/: critical label",
    ]
    assert sound.violations == []
