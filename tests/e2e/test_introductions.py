"""Browser journey: a leader sends an introduction from a suggestion, both
members accept, and the funnel on the leaders' page moves."""

import pytest

from members.models import LEADERS
from members.services import role_grant
from plnorg.introductions.services.suggestions import suggestions_compute

# One Playwright (sync) instance per run: the session-wide `browser` fixture
# of tests/e2e/conftest.py; a second sync instance cannot start beside it.
from tests.e2e.conftest import signed_in_page as _page_as
from tests.factories import FeedFactory, MemberFactory, SubscriptionFactory, TeamFactory


def _funnel(page, key: str) -> str:
    return page.locator(f'[data-funnel="{key}"]').inner_text().strip()


@pytest.mark.timeout(120)
def test_leader_introduces_two_members_who_both_accept(live_server, browser, transactional_db):
    sales, research = TeamFactory(name="E2E Sales"), TeamFactory(name="E2E Research")
    ann = MemberFactory(display_name="Ann Archer", team=sales, introductions_opt_in=True)
    bob = MemberFactory(display_name="Bob Baker", team=research, introductions_opt_in=True)
    for title in ("Data Weekly", "Stats Radio"):
        feed = FeedFactory(title=title)
        SubscriptionFactory(member=ann, feed=feed, topics=["data"])
        SubscriptionFactory(member=bob, feed=feed, topics=["data"])
    leader = MemberFactory(display_name="Lea Leader", team=sales).user
    role_grant(user=leader, group_name=LEADERS)
    suggestions_compute()

    page = _page_as(browser, live_server, leader)
    page.goto(f"{live_server.url}/leaders/introductions/")
    # The demo organization may be there too: the counts must each move by one.
    sent, accepted = int(_funnel(page, "sent")), int(_funnel(page, "accepted"))
    assert "Both follow Data Weekly and Stats Radio" in page.inner_text("main")
    page.get_by_role("link", name="Introduce Ann Archer and Bob Baker").click()
    page.get_by_label("Your note to both").fill("You both follow the same data sources.")
    page.get_by_role("button", name="Send the introduction").click()
    assert "Introduction sent" in page.inner_text("body")
    detail_url = page.url

    for member in (ann, bob):
        member_page = _page_as(browser, live_server, member.user)
        member_page.goto(detail_url)
        assert "You both follow the same data sources." in member_page.inner_text("main")
        member_page.get_by_role("button", name="Accept").click()
        assert "You accepted" in member_page.inner_text("body")
    # The second to accept sees the first one's address.
    assert ann.user.email in member_page.inner_text("main")

    page.goto(f"{live_server.url}/leaders/introductions/")
    assert (int(_funnel(page, "sent")), int(_funnel(page, "accepted"))) == (sent + 1, accepted + 1)
    assert "Ann Archer and Bob Baker Accepted by both" in " ".join(page.inner_text("main").split())
