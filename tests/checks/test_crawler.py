"""Every page, as every role: statuses, declared text, wording, empty states, consent."""

import pytest

from feeds.demo import CANARY_OWNER, CONSENT_CANARY
from tests.checks.crawler import PERSONAS, crawl_persona, unmapped_routes

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_every_page_the_role_may_open_is_sound(persona, crawl):
    problems = crawl[persona].all_problems
    assert not problems, f"{len(problems)} problems as {persona}:\n" + "\n".join(problems)


def test_the_new_member_sees_empty_states(crawl):
    """The brand-new member (nothing registered) is who exercises the empty states."""
    pages = [p for p in crawl["new"].pages if p.is_html and p.status == 200]
    shown = [p.url for p in pages if b"empty-state" in p.content]
    assert shown, "the new member saw no empty state on any page"


def test_every_url_pattern_has_a_permission_map_entry():
    assert unmapped_routes() == []


def test_consent_canary_never_leaks_to_another_role(crawl):
    leaks = [
        f"{page.persona} {page.url} ({page.content_type})"
        for c in crawl.values()
        for page in c.pages
        if CONSENT_CANARY.encode() in page.content
    ]
    assert leaks == []


def test_consent_canary_is_visible_to_its_owner(persona_user):
    """The leak check is not vacuous: the canary is in the data, and its owner sees it.

    seed_demo (feeds/demo.py) gives CANARY_OWNER a private source and account
    carrying CONSENT_CANARY; the owner's own pages show them.
    """
    from members.models import User

    owner = User.objects.get(email=f"{CANARY_OWNER}@example.com")
    result = crawl_persona("owner", owner, owner="owner")
    showing = [page.url for page in result.pages if CONSENT_CANARY.encode() in page.content]
    assert showing, f"{CANARY_OWNER} saw the canary on none of their pages"
