"""Browser journey: a member filters the stream by team, searches, opens an
entry and reports it; a facilitator hides it, and it is gone for everyone."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from feeds.models import Feed
from members.models import FACILITATORS
from members.services import role_grant
from tests.e2e.conftest import signed_in_page
from tests.factories import EntryFactory, FeedFactory, MemberFactory, SubscriptionFactory, TeamFactory


def _articles(page) -> list[str]:
    return [title.strip() for title in page.locator("main article h3").all_inner_texts()]


@pytest.mark.timeout(180)
def test_member_filters_searches_reports_and_facilitator_hides(live_server, browser, transactional_db):
    now = timezone.now()
    research, support = TeamFactory(name="E2E Stream Research"), TeamFactory(name="E2E Stream Support")
    reader = MemberFactory(display_name="Rita Reader", team=support)
    ana = MemberFactory(display_name="Ana Author", team=research)
    chen = MemberFactory(display_name="Chen Curator", team=support)
    account, blog = FeedFactory(title="Ana's notes", platform="mastodon"), FeedFactory(title="Ops Weekly")
    SubscriptionFactory(member=ana, feed=account, kind="account")
    SubscriptionFactory(member=chen, feed=blog, kind="source")
    EntryFactory(
        feed=account,
        title="Kubernetes upgrade notes",
        summary="<p>How we upgraded kubernetes.</p>",
        published_at=now - timedelta(hours=1),
    )
    EntryFactory(feed=account, title="Reading group recap", published_at=now - timedelta(hours=2))
    EntryFactory(feed=blog, title="Kubernetes at scale", published_at=now - timedelta(hours=3))  # fmt: skip
    # Only this journey's feeds (the demo organization may be in the database).
    Feed.objects.exclude(pk__in=[account.pk, blog.pk]).update(hidden_at=now)
    facilitator = MemberFactory(display_name="Fay Facilitator", team=support).user
    role_grant(user=facilitator, group_name=FACILITATORS)

    page = signed_in_page(browser, live_server, reader.user)
    page.goto("/stream/")
    assert _articles(page) == ["Kubernetes upgrade notes", "Reading group recap", "Kubernetes at scale"]

    # Filter by team: only what comes through Research members.
    page.get_by_label("Team").select_option(label="E2E Stream Research")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()
    assert "team=" in page.url
    assert _articles(page) == ["Kubernetes upgrade notes", "Reading group recap"]
    assert "by Ana Author" in page.inner_text("main")

    # Search within the team filter; the match is highlighted.
    page.get_by_label("Search titles, summaries and content").fill("kubernetes")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()
    assert "team=" in page.url and "q=kubernetes" in page.url
    assert _articles(page) == ["Kubernetes upgrade notes"]
    assert page.locator("main article mark").first.inner_text().lower() == "kubernetes"

    # Open the entry, report it.
    with page.expect_navigation():
        page.get_by_role("link", name="Kubernetes upgrade notes", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Kubernetes upgrade notes"
    entry_url = page.url
    with page.expect_navigation():
        page.get_by_role("link", name="Report this entry").click()
    page.get_by_label("Spam").check()
    page.get_by_label("Note for the facilitators").fill("Looks like an ad.")
    with page.expect_navigation():
        page.get_by_role("button", name="Send the report").click()
    assert "Reported. Thank you" in page.inner_text("main, [role=status]")

    # The facilitator sees the report and hides the entry.
    moderator = signed_in_page(browser, live_server, facilitator)
    moderator.goto("/moderation/reports/")
    report = moderator.locator("li.report").filter(has_text="Kubernetes upgrade notes")
    assert "Looks like an ad." in report.inner_text()
    report.get_by_label("Why hide this entry").fill("Advertising")
    with moderator.expect_navigation():
        report.get_by_role("button", name="Hide entry").click()
    assert "Hidden from everyone" in moderator.content()
    assert "Hidden by Fay Facilitator" in moderator.inner_text("main")
    assert "Advertising" in moderator.inner_text("main")

    # Gone for everyone: the stream, search, the entry page.
    page.goto("/stream/")
    assert _articles(page) == ["Reading group recap", "Kubernetes at scale"]
    page.goto("/stream/?q=kubernetes")
    assert _articles(page) == ["Kubernetes at scale"]
    response = page.goto(entry_url)
    assert response.status == 404
    moderator.goto("/stream/")
    assert "Kubernetes upgrade notes" not in _articles(moderator)
    # The only browser error allowed: the 404 of the hidden entry's page, on purpose.
    assert [e for e in page.console_errors if "404 (Not Found)" not in e] == []
    assert moderator.console_errors == []
    moderator.context.close()
    page.context.close()


@pytest.mark.timeout(120)
def test_older_loads_in_place_with_htmx_and_works_as_a_plain_link(live_server, browser, transactional_db):
    now = timezone.now()
    reader = MemberFactory(display_name="Olga Older")
    feed = FeedFactory(title="Long archive")
    SubscriptionFactory(member=MemberFactory(display_name="Arch Ivist"), feed=feed, kind="source")
    for i in range(60):
        EntryFactory(feed=feed, title=f"Archive entry {i:02d}", published_at=now - timedelta(hours=i + 1))
    Feed.objects.exclude(pk=feed.pk).update(hidden_at=now)
    page = signed_in_page(browser, live_server, reader.user)
    page.goto(f"{live_server.url}/stream/")
    assert len(_articles(page)) == 50

    page.get_by_role("link", name="Older").click()
    expect(page.locator("main article")).to_have_count(60)

    titles = _articles(page)
    assert titles == [f"Archive entry {i:02d}" for i in range(60)]  # appended in order, nothing repeated
    assert "cursor=" in page.url  # the address names the page reached (back and reload work)
    assert page.get_by_role("link", name="Older").count() == 0  # the pager was replaced: no more pages
    assert page.get_by_role("link", name="Newest").count() == 1
    assert page.console_errors == []  # htmx runs under the strict CSP (no inline style or eval)

    # Without JavaScript the same link is a plain page load of the older entries.
    plain = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    plain.add_cookies(page.context.cookies())
    nojs = plain.new_page()
    nojs.goto(f"{live_server.url}/stream/")
    nojs.get_by_role("link", name="Older").click()
    nojs.wait_for_load_state()
    assert [t.strip() for t in nojs.locator("main article h3").all_inner_texts()] == [
        f"Archive entry {i:02d}" for i in range(50, 60)
    ]
    plain.close()
    page.context.close()
