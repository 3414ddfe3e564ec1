"""Browser journeys of the reader: the keyboard shortcuts in Chromium (under
the site's strict CSP: any violation would be a console error), and the same
actions with JavaScript switched off."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from feeds.models import Feed, SavedEntry
from feeds.reader.models import ReadMark, ReadMarker
from tests.e2e.conftest import DEFAULT_TIMEOUT_MS, screenshot, signed_in_page
from tests.factories import EntryFactory, FeedFactory, MemberFactory, SubscriptionFactory

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def reading(transactional_db):
    now = timezone.now()
    ana = MemberFactory(display_name="Ana Author")
    reader = MemberFactory(display_name="Rita Reader")
    feed = FeedFactory(title="Ana's notes", platform="mastodon")
    SubscriptionFactory(member=ana, feed=feed, kind="account")
    entries = [
        EntryFactory(feed=feed, title=title, published_at=now - timedelta(hours=hours))
        for hours, title in [(1, "First in the stream"), (2, "Second in the stream"), (3, "Third in the stream")]
    ]
    Feed.objects.exclude(pk=feed.pk).update(hidden_at=now)
    return {"reader": reader, "entries": entries}


def current_title(page) -> str:
    return page.locator("article.entry.is-current h3").inner_text()


def test_the_keyboard_drives_the_stream_and_entry_pages(live_server, browser, reading):
    first, second, third = reading["entries"]
    rita = reading["reader"]
    page = signed_in_page(browser, live_server, rita.user)
    page.goto("/stream/")
    expect(page.locator("article.entry .badge-unread")).to_have_count(3)

    # j / k move between entries (the current one has focus).
    page.keyboard.press("j")
    assert current_title(page) == "First in the stream"
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert current_title(page) == "Third in the stream"
    page.keyboard.press("k")
    assert current_title(page) == "Second in the stream"
    assert page.evaluate("document.activeElement.id") == f"entry-{second.pk}"

    # m marks read in place; m again keeps it unread.
    page.keyboard.press("m")
    current = page.locator(f"#entry-{second.pk}")
    expect(current.locator(".badge-unread")).to_have_count(0)
    expect(current.locator('form[data-reader="read"] button')).to_have_text("Mark as unread: Second in the stream")
    assert ReadMark.objects.get(member=rita, entry=second).is_read is True
    page.keyboard.press("m")
    expect(current.locator(".badge-unread")).to_have_text("Unread")
    assert ReadMark.objects.get(member=rita, entry=second).is_read is False

    # s saves (the reader's starred), in place too.
    page.keyboard.press("s")
    expect(current.locator('form[data-reader="star"] button')).to_have_text("Saved — remove: Second in the stream")
    assert list(SavedEntry.objects.filter(member=rita).values_list("entry_id", flat=True)) == [second.pk]

    # ? shows the list of shortcuts, / goes to the search box.
    page.keyboard.press("?")
    expect(page.locator("#reader-shortcuts")).to_have_attribute("open", "")
    expect(page.locator("#reader-shortcuts dl")).to_contain_text("Mark all as read (asks first)")
    page.keyboard.press("Escape")
    expect(page.locator("#reader-shortcuts")).not_to_have_attribute("open", "")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "f-q"
    page.locator("#f-q").press("Escape")
    page.locator("main h1").click()

    # o opens the current entry, which marks it read; j and k walk the stream from there.
    page.keyboard.press("k")
    assert current_title(page) == "First in the stream"
    with page.expect_navigation():
        page.keyboard.press("o")
    expect(page.locator("h1")).to_have_text("First in the stream")
    assert ReadMark.objects.get(member=rita, entry=first).is_read is True
    with page.expect_navigation():
        page.keyboard.press("j")
    expect(page.locator("h1")).to_have_text("Second in the stream")
    with page.expect_navigation():
        page.keyboard.press("k")
    expect(page.locator("h1")).to_have_text("First in the stream")
    page.keyboard.press("m")
    expect(page.locator(".entry-reading button[data-label-on]")).to_have_text("Mark as read")
    assert ReadMark.objects.get(member=rita, entry=first).is_read is False

    # Shift+A asks, then marks everything read; what arrives later stays unread.
    page.goto("/stream/")
    later = EntryFactory(feed=first.feed, title="Arrived meanwhile", published_at=timezone.now())
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.keyboard.press("Shift+A")
    expect(page.locator("[role=status]")).to_contain_text("Marked as read. Entries that arrive from now on are new.")
    page.goto("/stream/?unread=1")
    expect(page.locator("main article h3")).to_have_text(["Arrived meanwhile"])
    assert ReadMarker.objects.get(member=rita).read_through_id < later.pk
    screenshot(page, "reader-shortcuts")
    assert page.console_errors == []
    page.context.close()


def test_typing_in_the_search_box_is_not_a_shortcut(live_server, browser, reading):
    page = signed_in_page(browser, live_server, reading["reader"].user)
    page.goto("/stream/")

    page.locator("#f-q").fill("")
    page.locator("#f-q").press_sequentially("jms")

    assert page.locator("#f-q").input_value() == "jms"
    expect(page.locator("article.entry.is-current")).to_have_count(0)
    assert not ReadMark.objects.exists() and not SavedEntry.objects.exists()
    page.context.close()


def test_without_javascript_every_action_is_a_plain_form(live_server, browser, reading):
    first, second, _third = reading["entries"]
    rita = reading["reader"]
    client = Client()
    client.force_login(rita.user)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page.goto("/stream/")

    # The shortcuts list is readable as it is.
    page.locator("#reader-shortcuts summary").click()
    expect(page.locator("#reader-shortcuts dl")).to_contain_text("Save for later, or remove from saved")

    with page.expect_navigation():
        page.get_by_role("button", name=re.compile(r"^Mark as read\W+Second in the stream$")).click()
    assert page.url.endswith(f"/stream/#entry-{second.pk}")
    expect(page.locator("[role=status]")).to_contain_text("Marked as read.")
    expect(page.locator(f"#entry-{second.pk} .badge-unread")).to_have_count(0)

    with page.expect_navigation():
        page.get_by_role("button", name=re.compile(r"^Save for later\W+First in the stream$")).click()
    expect(page.locator(f"#entry-{first.pk}")).to_contain_text("Saved — remove")

    with page.expect_navigation():
        page.get_by_role("button", name="Mark all as read").click()
    expect(page.locator("[role=status]")).to_contain_text("Marked as read.")
    expect(page.locator("article.entry .badge-unread")).to_have_count(0)
    assert ReadMarker.objects.get(member=rita).read_through_id >= first.pk
    assert list(SavedEntry.objects.filter(member=rita).values_list("entry_id", flat=True)) == [first.pk]
    context.close()
