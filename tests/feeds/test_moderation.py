"""Moderation: members report entries and sources; facilitators hide (with a
reason and who), dismiss and restore; hidden content is gone everywhere."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from feeds.atom import atom_stream
from feeds.models import Entry, Feed, Report, Subscription
from feeds.moderation import ModerationRefused, entry_hide, feed_hide, report_create
from feeds.stream import StreamFilters, stream_page
from tests.factories import EntryFactory, FeedFactory, MemberFactory, SubscriptionFactory
from tests.pages import text_of

NOW = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def shared(db):
    Feed.objects.update(hidden_at=timezone.now())  # only this test's entries
    feed = FeedFactory(title="Growth hacks daily", platform="blog")
    SubscriptionFactory(feed=feed, kind=Subscription.Kind.SOURCE, member=MemberFactory(display_name="Sam"))
    spam = EntryFactory(feed=feed, title="Buy followers now", published_at=NOW)
    fine = EntryFactory(feed=feed, title="A fair post", published_at=NOW - timedelta(hours=1))
    return {"feed": feed, "spam": spam, "fine": fine}


@pytest.fixture
def employee(client_as, persona_user):
    return client_as("employee"), persona_user("employee").member


@pytest.fixture
def facilitator(client_as, persona_user):
    return client_as("facilitator"), persona_user("facilitator").member


def test_a_member_reports_an_entry_with_a_reason_and_a_note(shared, employee):
    client, member = employee

    form = client.get(reverse("feeds:report_entry", kwargs={"entry_id": shared["spam"].pk}))
    response = client.post(
        reverse("feeds:report_entry", kwargs={"entry_id": shared["spam"].pk}),
        {"reason": "spam", "note": "Selling followers."},
        follow=True,
    )

    assert "Report an entry Buy followers now" in text_of(form)
    assert "Reported. Thank you: a facilitator will look at it." in text_of(response)
    assert list(Report.objects.values_list("reporter", "entry", "feed", "reason", "note", "resolved_at")) == [
        (member.pk, shared["spam"].pk, None, "spam", "Selling followers.", None)
    ]


def test_reporting_again_updates_the_open_report(shared, employee):
    _client, member = employee

    report_create(member=member, entry=shared["spam"], reason="spam", note="first")
    report_create(member=member, entry=shared["spam"], reason="inappropriate", note="second")

    assert list(Report.objects.values_list("reason", "note")) == [("inappropriate", "second")]


def test_a_member_reports_a_whole_source(shared, employee):
    client, member = employee

    client.post(reverse("feeds:report_feed", kwargs={"feed_id": shared["feed"].pk}), {"reason": "off_topic"})

    assert list(Report.objects.values_list("reporter", "entry", "feed", "reason")) == [
        (member.pk, None, shared["feed"].pk, "off_topic")
    ]


def test_a_report_needs_a_reason(shared, employee):
    client, _member = employee

    response = client.post(reverse("feeds:report_entry", kwargs={"entry_id": shared["spam"].pk}), {"note": "?"})

    assert "This field is required." in text_of(response)
    assert Report.objects.count() == 0


def test_nobody_reports_what_the_organization_cannot_see(shared, employee):
    client, _member = employee
    private = FeedFactory()
    SubscriptionFactory(feed=private, is_shared=False)
    entry = EntryFactory(feed=private)

    on_entry = client.post(reverse("feeds:report_entry", kwargs={"entry_id": entry.pk}), {"reason": "spam"})
    on_feed = client.post(reverse("feeds:report_feed", kwargs={"feed_id": private.pk}), {"reason": "spam"})

    assert (on_entry.status_code, on_feed.status_code) == (404, 404)
    assert Report.objects.count() == 0


def test_members_cannot_open_reports_or_hide(shared, employee):
    client, member = employee

    page = client.get(reverse("feeds:reports"))
    hide = client.post(reverse("feeds:entry_hide", kwargs={"entry_id": shared["spam"].pk}), {"reason": "spam"})

    assert (page.status_code, hide.status_code) == (403, 403)
    assert Entry.objects.get(pk=shared["spam"].pk).hidden_at is None
    with pytest.raises(ModerationRefused):
        entry_hide(member=member, entry=shared["spam"], reason="spam")


def test_facilitator_sees_reports_hides_the_entry_and_it_is_gone_everywhere(shared, employee, facilitator):
    member_client, member = employee
    fac_client, fac = facilitator
    report_create(member=member, entry=shared["spam"], reason="spam", note="Selling followers.")

    reports = fac_client.get(reverse("feeds:reports"))
    hidden = fac_client.post(
        reverse("feeds:entry_hide", kwargs={"entry_id": shared["spam"].pk}), {"reason": "Spam"}, follow=True
    )

    assert "Spam Entry: Buy followers now · Growth hacks daily" in text_of(reports)
    assert "Selling followers." in text_of(reports)
    assert "Hidden from everyone: “Buy followers now”." in text_of(hidden)
    entry = Entry.objects.get(pk=shared["spam"].pk)
    assert (entry.hidden_reason, entry.hidden_by_id, entry.hidden_at is not None) == ("Spam", fac.pk, True)
    assert list(Report.objects.values_list("resolution", "resolved_by")) == [("hidden", fac.pk)]
    assert [e.title for e in stream_page(StreamFilters()).entries] == ["A fair post"]
    assert [e.title for e in stream_page(StreamFilters(q="followers")).entries] == []
    assert "Buy followers" not in text_of(member_client.get(reverse("feeds:stream")))
    assert member_client.get(reverse("feeds:entry", kwargs={"entry_id": entry.pk})).status_code == 404
    assert b"Buy followers" not in atom_stream(params={}, self_url="http://testserver/out.atom")
    assert "No open reports" in text_of(hidden)
    assert "Hidden by" in text_of(hidden) and ": Spam" in text_of(hidden)


def test_restore_brings_an_entry_back(shared, facilitator):
    fac_client, fac = facilitator
    entry_hide(member=fac, entry=shared["spam"], reason="by mistake")

    response = fac_client.post(reverse("feeds:entry_restore", kwargs={"entry_id": shared["spam"].pk}), follow=True)

    assert "Restored: “Buy followers now”." in text_of(response)
    entry = Entry.objects.get(pk=shared["spam"].pk)
    assert (entry.hidden_at, entry.hidden_reason, entry.hidden_by_id) == (None, "", None)
    assert [e.title for e in stream_page(StreamFilters()).entries] == ["Buy followers now", "A fair post"]


def test_hiding_a_feed_hides_every_entry_and_resolves_its_reports(shared, employee, facilitator):
    _client, member = employee
    fac_client, fac = facilitator
    report_create(member=member, entry=shared["fine"], reason="off_topic")
    report_create(member=member, feed=shared["feed"], reason="spam")

    fac_client.post(reverse("feeds:feed_hide", kwargs={"feed_id": shared["feed"].pk}), {"reason": "Spam source"})

    feed = Feed.objects.get(pk=shared["feed"].pk)
    assert (feed.hidden_reason, feed.hidden_by_id) == ("Spam source", fac.pk)
    assert stream_page(StreamFilters()).entries == []
    assert Subscription.objects.shared().filter(feed=feed).count() == 0
    assert set(Report.objects.values_list("resolution", flat=True)) == {"hidden"}

    fac_client.post(reverse("feeds:feed_restore", kwargs={"feed_id": feed.pk}))

    assert [e.title for e in stream_page(StreamFilters()).entries] == ["Buy followers now", "A fair post"]


def test_hiding_needs_a_reason(shared, facilitator):
    _client, fac = facilitator

    with pytest.raises(ModerationRefused):
        feed_hide(member=fac, feed=shared["feed"], reason="  ")

    assert Feed.objects.get(pk=shared["feed"].pk).hidden_at is None


def test_dismissing_a_report_keeps_the_entry(shared, employee, facilitator):
    _client, member = employee
    fac_client, fac = facilitator
    report = report_create(member=member, entry=shared["fine"], reason="off_topic")

    fac_client.post(reverse("feeds:report_dismiss", kwargs={"report_id": report.pk}))

    report.refresh_from_db()
    assert (report.resolution, report.resolved_by_id) == ("dismissed", fac.pk)
    assert Entry.objects.shared().filter(pk=shared["fine"].pk).exists()


def _reports_page_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("feeds:reports"))
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_reports_page_query_count_is_the_same_for_1_and_many(shared, employee, facilitator):
    _client, member = employee
    fac_client, fac = facilitator
    report_create(member=member, entry=shared["spam"], reason="spam")
    entry_hide(member=fac, entry=shared["fine"], reason="dup")
    feed_hide(member=fac, feed=FeedFactory(), reason="x")
    one = _reports_page_queries(fac_client)
    for _ in range(10):
        extra = EntryFactory(feed=shared["feed"])
        report_create(member=MemberFactory(), entry=extra, reason="spam")
        report_create(member=MemberFactory(), feed=FeedFactory(), reason="off_topic")
        entry_hide(member=fac, entry=EntryFactory(feed=shared["feed"]), reason="dup")
        feed_hide(member=fac, feed=FeedFactory(), reason="x")

    many = _reports_page_queries(fac_client)

    assert one == many
