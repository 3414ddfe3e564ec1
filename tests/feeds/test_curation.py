"""Picks, saves, recommendations and starter packs: services and pages."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from feeds.curation import (
    CurationRefused,
    picks_for_stream,
    recommendation_send,
    starter_pack_follow,
)
from feeds.models import Pick, Recommendation, SavedEntry, StarterPack, StarterPackItem, Subscription
from members.models import FACILITATORS
from members.services import role_grant
from tests.factories import (
    EntryFactory,
    FeedFactory,
    MemberFactory,
    PickFactory,
    RecommendationFactory,
    SavedEntryFactory,
    StarterPackFactory,
    SubscriptionFactory,
    shared_entry,
)
from tests.pages import client_for, parse_page, text_of

pytestmark = pytest.mark.django_db


def facilitator():
    member = MemberFactory()
    role_grant(user=member.user, group_name=FACILITATORS)
    return member


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# --- Picks ----------------------------------------------------------------------


def test_picks_newest_pick_first_and_hidden_entries_left_out():
    now = timezone.now()
    first = PickFactory(entry=shared_entry(title="First picked"), created_at=now + timedelta(minutes=1))
    second = PickFactory(entry=shared_entry(title="Second picked"), created_at=now + timedelta(minutes=2))
    hidden = PickFactory(
        entry=shared_entry(title="Hidden picked", hidden_at=now), created_at=now + timedelta(minutes=3)
    )
    private_feed = FeedFactory()
    SubscriptionFactory(feed=private_feed, is_shared=False)
    private = PickFactory(entry=EntryFactory(feed=private_feed), created_at=now + timedelta(minutes=4))

    picks = picks_for_stream(limit=2)

    assert [p.pk for p in picks] == [second.pk, first.pk]
    assert hidden.pk not in [p.pk for p in picks_for_stream(limit=100)]
    assert private.pk not in [p.pk for p in picks_for_stream(limit=100)]


def test_facilitator_pins_an_entry_with_a_note_and_members_see_it_first_on_picks_page():
    entry = shared_entry(title="Networks beat courses")
    older = PickFactory(entry=shared_entry(title="An older pick"), created_at=timezone.now() - timedelta(days=1))
    pinner = facilitator()

    response = client_for(pinner).post(
        reverse("feeds:pick", kwargs={"entry_id": entry.pk}), {"note": "  Read before the workshop.  "}
    )

    assert response.status_code == 302
    pick = Pick.objects.get(entry=entry)
    assert (pick.note, pick.picked_by) == ("Read before the workshop.", pinner)
    page = text_of(client_for(MemberFactory()).get(reverse("feeds:picks")))
    assert page.index("Networks beat courses") < page.index("An older pick")
    assert "Why it matters for us: Read before the workshop." in page
    assert older.pk


def test_an_entry_page_shows_its_pick_and_each_members_own_saved_state():
    """The entry page reads "saved?" and the pick's note in one query
    (feeds/templatetags/curation.py), per member and per entry."""
    picked, plain = shared_entry(title="Picked"), shared_entry(title="Plain")
    PickFactory(entry=picked, note="Read <this> & that")
    saver, other, pinner = MemberFactory(), MemberFactory(), facilitator()
    SavedEntryFactory(member=saver, entry=picked)

    def page(member, entry):
        return client_for(member).get(reverse("feeds:entry", kwargs={"entry_id": entry.pk})).content.decode()

    saver_picked, other_picked, saver_plain = page(saver, picked), page(other, picked), page(saver, plain)
    pinner_picked = page(pinner, picked)

    note = '<p class="pick-note"><span class="badge">Pick</span> Read &lt;this&gt; &amp; that</p>'
    assert note in saver_picked and note in other_picked and "pick-note" not in saver_plain
    assert ("Saved — remove" in saver_picked, "Saved — remove" in other_picked) == (True, False)
    assert ("Save for later" in saver_plain, "Saved — remove" in saver_plain) == (True, False)
    assert 'value="Read &lt;this&gt; &amp; that"' in pinner_picked and "Update the pick" in pinner_picked


def test_a_member_who_is_not_a_facilitator_cannot_pick():
    entry = shared_entry()
    member = MemberFactory()

    response = client_for(member).post(reverse("feeds:pick", kwargs={"entry_id": entry.pk}), {"note": "mine"})

    assert response.status_code == 403
    assert not Pick.objects.filter(entry=entry).exists()


def test_unpick_removes_the_pick():
    pick = PickFactory(entry=shared_entry())

    client_for(facilitator()).post(reverse("feeds:unpick", kwargs={"entry_id": pick.entry_id}))

    assert not Pick.objects.filter(pk=pick.pk).exists()


def test_picks_page_query_count_is_the_same_for_one_and_many():
    member = MemberFactory()
    client = client_for(member)
    PickFactory(entry=shared_entry())
    one = queries_for(client, reverse("feeds:picks"))
    for _ in range(4):
        PickFactory(entry=shared_entry())
    assert queries_for(client, reverse("feeds:picks")) == one


# --- Saves ----------------------------------------------------------------------


def test_save_shows_on_my_saved_page_only_and_unsave_removes_it():
    entry = shared_entry(title="Keep this one")
    me, other = MemberFactory(), MemberFactory()

    client_for(me).post(reverse("feeds:save", kwargs={"entry_id": entry.pk}))
    client_for(me).post(reverse("feeds:save", kwargs={"entry_id": entry.pk}))  # idempotent

    assert SavedEntry.objects.filter(member=me, entry=entry).count() == 1
    assert "Keep this one" in text_of(client_for(me).get(reverse("feeds:saved")))
    other_page = text_of(client_for(other).get(reverse("feeds:saved")))
    assert "Keep this one" not in other_page
    assert "Nothing saved yet" in other_page

    client_for(me).post(reverse("feeds:unsave", kwargs={"entry_id": entry.pk}))
    assert not SavedEntry.objects.filter(member=me).exists()


def test_saving_an_entry_the_organization_cannot_see_answers_404():
    feed = FeedFactory()
    SubscriptionFactory(feed=feed, is_shared=False)
    entry = EntryFactory(feed=feed)
    me = MemberFactory()

    response = client_for(me).post(reverse("feeds:save", kwargs={"entry_id": entry.pk}))

    assert response.status_code == 404
    assert not SavedEntry.objects.filter(member=me).exists()


def test_saved_page_query_count_is_the_same_for_one_and_many():
    me = MemberFactory()
    client = client_for(me)
    SavedEntryFactory(member=me, entry=shared_entry())
    one = queries_for(client, reverse("feeds:saved"))
    for _ in range(5):
        SavedEntryFactory(member=me, entry=shared_entry())
    PickFactory(entry=SavedEntry.objects.filter(member=me).first().entry)
    assert queries_for(client, reverse("feeds:saved")) == one


# --- Recommendations --------------------------------------------------------------


def test_recommend_to_a_colleague_who_sees_it_on_home_and_dismisses_it():
    entry = shared_entry(title="Incident reviews that teach")
    sender = MemberFactory(display_name="Sofia Sender")
    colleague = MemberFactory(display_name="Cole League")
    form_page = client_for(sender).get(reverse("feeds:recommend", kwargs={"entry_id": entry.pk}))
    assert "Cole League" in text_of(form_page)

    response = client_for(sender).post(
        reverse("feeds:recommend", kwargs={"entry_id": entry.pk}),
        {"recipient": colleague.pk, "note": "Before our retro"},
    )

    assert response.status_code == 302
    recommendation = Recommendation.objects.get(recipient=colleague)
    assert (recommendation.sender, recommendation.entry, recommendation.note) == (sender, entry, "Before our retro")
    home = text_of(client_for(colleague).get(reverse("home")))
    assert "Incident reviews that teach" in home
    assert "Sofia Sender recommends it: “Before our retro”" in home

    # Nobody but the recipient can dismiss it.
    stranger = client_for(MemberFactory())
    url = reverse("feeds:recommendation_dismiss", kwargs={"recommendation_id": recommendation.pk})
    assert stranger.post(url).status_code == 404
    client_for(colleague).post(url)
    recommendation.refresh_from_db()
    assert recommendation.dismissed_at is not None
    assert "Incident reviews that teach" not in text_of(client_for(colleague).get(reverse("home")))


def test_recommending_to_oneself_is_refused():
    me = MemberFactory()
    with pytest.raises(CurationRefused):
        recommendation_send(sender=me, recipient=me, entry=shared_entry())


def test_recommending_again_brings_a_dismissed_recommendation_back_with_the_new_note():
    rec = RecommendationFactory(entry=shared_entry(), dismissed_at=timezone.now(), note="old")

    again = recommendation_send(sender=rec.sender, recipient=rec.recipient, entry=rec.entry, note="new")

    assert (again.pk, again.dismissed_at, again.note) == (rec.pk, None, "new")


def test_home_page_query_count_is_the_same_for_one_and_many_recommendations():
    me = MemberFactory()
    client = client_for(me)
    RecommendationFactory(recipient=me, entry=shared_entry())
    one = queries_for(client, reverse("home"))
    for _ in range(4):
        RecommendationFactory(recipient=me, entry=shared_entry())
    assert queries_for(client, reverse("home")) == one


def test_home_page_without_a_waiting_recommendation_skips_the_recommendations_query():
    """Most members have nothing waiting: one tiny query says so, and the
    visible-entries query for recommendations is not run at all."""
    me = MemberFactory()
    client = client_for(me)
    nothing = queries_for(client, reverse("home"))
    rec = RecommendationFactory(recipient=me, entry=shared_entry())
    assert queries_for(client, reverse("home")) == nothing + 1
    assert rec.entry.title in text_of(client.get(reverse("home")))

    Recommendation.objects.filter(pk=rec.pk).update(dismissed_at=timezone.now())

    assert queries_for(client, reverse("home")) == nothing
    assert rec.entry.title not in text_of(client.get(reverse("home")))


# --- Starter packs ----------------------------------------------------------------


def pack_with(*feeds, topic="data", title="Data science starter pack"):
    pack = StarterPackFactory(title=title, topic=topic)
    for position, feed in enumerate(feeds):
        StarterPackItem.objects.create(pack=pack, feed=feed, position=position)
    return pack


def test_facilitator_builds_a_pack_from_shared_sources_only():
    shared, private = FeedFactory(title="Shared source"), FeedFactory(title="Private source")
    SubscriptionFactory(feed=shared, is_shared=True)
    SubscriptionFactory(feed=private, is_shared=False)
    client = client_for(facilitator())
    form = text_of(client.get(reverse("feeds:starter_pack_new")))
    assert "Shared source" in form
    assert "Private source" not in form

    response = client.post(
        reverse("feeds:starter_pack_new"),
        {"title": "Test data pack", "topic": "Data", "description": "Start here", "feeds": [shared.pk]},
    )

    pack = StarterPack.objects.get(title="Test data pack")
    assert response["Location"] == reverse("feeds:starter_pack", kwargs={"pack_id": pack.pk})
    assert (pack.topic, [i.feed for i in pack.items.all()]) == ("data", [shared])
    refused = client.post(reverse("feeds:starter_pack_new"), {"title": "Sneaky", "feeds": [private.pk]})
    assert refused.status_code == 200
    assert not StarterPack.objects.filter(title="Sneaky").exists()


def test_a_member_cannot_make_a_pack():
    response = client_for(MemberFactory()).post(reverse("feeds:starter_pack_new"), {"title": "Mine"})
    assert response.status_code == 403
    assert not StarterPack.objects.filter(title="Mine").exists()


def test_follow_a_whole_pack_then_drop_one_part():
    a, b, c = FeedFactory(title="A"), FeedFactory(title="B"), FeedFactory(title="C")
    for feed in (a, b, c):
        SubscriptionFactory(feed=feed, is_shared=True)
    pack = pack_with(a, b, c)
    me = MemberFactory()
    # Already follows B and shares it: following the pack leaves it as it is.
    mine_b = SubscriptionFactory(member=me, feed=b, is_shared=True, topics=["mine"])
    client = client_for(me)

    client.post(reverse("feeds:starter_pack_follow", kwargs={"pack_id": pack.pk}))

    subs = {s.feed_id: s for s in Subscription.objects.filter(member=me)}
    assert set(subs) == {a.pk, b.pk, c.pk}
    assert (subs[a.pk].is_shared, subs[a.pk].kind, subs[a.pk].topics) == (False, "source", ["data"])
    assert (subs[c.pk].is_shared, subs[c.pk].topics) == (False, ["data"])
    assert (subs[b.pk].pk, subs[b.pk].is_shared, subs[b.pk].topics) == (mine_b.pk, True, ["mine"])
    page = parse_page(client.get(reverse("feeds:starter_pack", kwargs={"pack_id": pack.pk})))
    drop_a = reverse("feeds:starter_pack_drop", kwargs={"pack_id": pack.pk, "feed_id": a.pk})
    assert drop_a in [f["action"] for f in page.forms]

    client.post(drop_a)

    assert set(Subscription.objects.filter(member=me).values_list("feed_id", flat=True)) == {b.pk, c.pk}
    # Following again re-adds only what is missing.
    result = starter_pack_follow(member=me, pack=pack)
    assert ([s.feed_id for s in result.added], result.already) == ([a.pk], 2)


def test_dropping_a_feed_outside_the_pack_answers_404():
    pack = pack_with(FeedFactory())
    other = SubscriptionFactory(feed=FeedFactory())
    client = client_for(other.member)

    response = client.post(reverse("feeds:starter_pack_drop", kwargs={"pack_id": pack.pk, "feed_id": other.feed_id}))

    assert response.status_code == 404
    assert Subscription.objects.filter(pk=other.pk).exists()


def test_onboarding_offers_the_packs():
    pack = pack_with(FeedFactory(), title="Onboarding offer pack")
    response = client_for(MemberFactory()).get(reverse("feeds:onboarding"))
    assert "Onboarding offer pack" in text_of(response)
    follow = reverse("feeds:starter_pack_follow", kwargs={"pack_id": pack.pk})
    assert follow in [f["action"] for f in parse_page(response).forms]


def test_starter_packs_page_query_count_is_the_same_for_one_and_many():
    client = client_for(MemberFactory())
    pack_with(FeedFactory(), FeedFactory())
    one = queries_for(client, reverse("feeds:starter_packs"))
    for n in range(3):
        pack_with(FeedFactory(), FeedFactory(), FeedFactory(), title=f"More {n}")
    assert queries_for(client, reverse("feeds:starter_packs")) == one


# --- A member's data ----------------------------------------------------------


def test_export_and_delete_cover_curation():
    from feeds.lifecycle import curation_delete, curation_export

    me = facilitator()
    saved = SavedEntryFactory(member=me, entry=shared_entry(title="Saved one")).entry
    RecommendationFactory(sender=me, entry=saved, note="to you")
    RecommendationFactory(recipient=me, entry=saved, note="for me")
    pick = PickFactory(entry=saved, picked_by=me, note="picked")

    data = curation_export(member=me)
    curation_delete(member=me)

    assert [s["title"] for s in data["saved_entries"]] == ["Saved one"]
    assert [(r["title"], r["note"]) for r in data["recommendations_sent"]] == [("Saved one", "to you")]
    assert [(r["title"], r["note"]) for r in data["recommendations_received"]] == [("Saved one", "for me")]
    assert [p["note"] for p in data["picks_made"]] == ["picked"]
    assert not SavedEntry.objects.filter(member=me).exists()
    assert not Recommendation.objects.filter(sender=me).exists()
    assert not Recommendation.objects.filter(recipient=me).exists()
    pick.refresh_from_db()
    assert (pick.picked_by, pick.note) == (None, "picked")
