"""Introductions: suggestions and their reasons, connectors, the flow with
accept/decline and "did you meet?", opt-in and opt-out, the analytics switches."""

import importlib.util
from datetime import timedelta

import networkx as nx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from members.models import OrganizationSettings, OutboundEmail, User
from plnorg.introductions.models import ConnectorStatus, Introduction, IntroductionSuggestion
from plnorg.introductions.services.funnel import introduction_funnel
from plnorg.introductions.services.introduction import (
    IntroductionError,
    introduction_answer,
    introduction_record_met,
    introduction_send,
    introduction_url,
    introductions_follow_up,
)
from plnorg.introductions.services.suggestions import (
    Person,
    connector_team_counts,
    connectors_compute,
    connectors_find,
    current_suggestions,
    similar_pairs,
    suggestion_reason,
    suggestions_compute,
)
from tests.bench_smoke import bench_smoke_run
from tests.factories import FeedFactory, MemberFactory, SubscriptionFactory, TeamFactory
from tests.pages import parse_page, text_of

# --- Pure functions: similarity, reasons, connectors -----------------------------

HAND_MADE = {
    1: Person(team_id=1, sources=frozenset({10, 11, 12, 13}), topics=frozenset({"python", "data"})),
    2: Person(team_id=2, sources=frozenset({10, 11, 12, 14}), topics=frozenset({"python"})),
    3: Person(team_id=1, sources=frozenset({10, 11, 12, 13}), topics=frozenset()),
    4: Person(team_id=3, sources=frozenset({20}), topics=frozenset({"python", "data", "ml"})),
    5: Person(team_id=3, sources=frozenset({10}), topics=frozenset()),
}


def test_similar_pairs_on_a_hand_made_set():
    pairs = {(p.member_a, p.member_b): p for p in similar_pairs(HAND_MADE)}
    # 1-3 share everything but are in the same team; 3-4 and 4-5 share nothing.
    assert sorted(pairs) == [(1, 2), (1, 4), (1, 5), (2, 3), (2, 4), (2, 5), (3, 5)]
    # 1-2: sources {10,11,12} of {10..14} = 3/5; topics {python} of {python,data} = 1/2.
    assert (pairs[1, 2].source_similarity, pairs[1, 2].topic_similarity) == (0.6, 0.5)
    assert pairs[1, 2].is_stranger is False
    # Rarest common source first: 11 and 12 have 3 followers, 10 has 4.
    assert pairs[1, 2].common_sources == (11, 12, 10)
    assert pairs[1, 2].common_topics == ("python",)
    # 1-4: no common source, topics {python,data} of {python,data,ml} = 2/3: strangers.
    assert (pairs[1, 4].source_similarity, pairs[1, 4].topic_similarity) == (0.0, 0.6667)
    assert pairs[1, 4].is_stranger is True
    # 2-4: topics 1/3 >= 0.3, sources 0: strangers too.
    assert (pairs[2, 4].topic_similarity, pairs[2, 4].is_stranger) == (0.3333, True)
    # 3-5: one source of four.
    assert (pairs[3, 5].source_similarity, pairs[3, 5].topic_similarity) == (0.25, 0.0)


def test_similar_pairs_keep_each_members_best_and_skip_excluded():
    pairs = similar_pairs(HAND_MADE, per_member=1, excluded={(1, 4)})
    # Best per member without 1-4: 1 -> 2 (0.6), 2 -> 1 (0.6 ties 3, lower id wins),
    # 3 -> 2 (0.6), 4 -> 2 (0.33), 5 -> 1 (0.25 ties 2 and 3, lower id wins).
    assert [(p.member_a, p.member_b) for p in pairs] == [(1, 2), (2, 3), (2, 4), (1, 5)]


def test_reason_names_two_sources_and_two_topics():
    assert suggestion_reason(sources=["A", "B", "C"], topics=["z"]) == "both follow A and B; both write about z"
    assert suggestion_reason(sources=[], topics=["y", "z"]) == "both write about y and z"
    assert suggestion_reason(sources=["A"], topics=[]) == "both follow A"


def test_connectors_find_the_known_bridge():
    graph = nx.Graph()
    left, right = ["a1", "a2", "a3", "a4", "a5"], ["b1", "b2", "b3", "b4", "b5"]
    for group in (left, right):
        graph.add_edges_from((x, y, {"weight": 1.0}) for i, x in enumerate(group) for y in group[i + 1 :])
    graph.add_edges_from(("x", node, {"weight": 0.25}) for node in left + right)
    results = connectors_find(graph)
    assert [node for node, r in results.items() if r.is_connector] == ["x"]
    assert results["x"].communities_spanned == 2
    # Every shortest path between the cliques runs through x: 25 of the 45 pairs.
    assert results["x"].betweenness == round(25 / 45, 6)
    assert results["a1"].betweenness == 0.0


def test_connectors_need_two_communities():
    # A path a-b-c: b has the highest betweenness but its neighbours may all be
    # one community; a single community never has connectors.
    graph = nx.Graph([("a", "b", {"weight": 1.0}), ("b", "c", {"weight": 1.0})])
    results = connectors_find(graph)
    assert not any(r.is_connector for r in results.values()) or results["b"].communities_spanned >= 2


# --- With the database --------------------------------------------------------------


@pytest.fixture
def org(db):
    """Three teams, hand-made shared PLNs. Demo people are switched off."""
    User.objects.update(is_active=False)
    teams = {name: TeamFactory(name=f"Intro {name}") for name in "ABC"}
    feeds = {key: FeedFactory(title=f"Feed {key}") for key in ("f1", "f2", "f3", "f4", "f5")}
    people = {}
    spec = {
        # name: (team, shared sources, topics on those, opted in)
        "ann": ("A", ["f1", "f2", "f3"], ["python", "data"], True),
        "bob": ("B", ["f1", "f2", "f4"], ["python"], True),
        "cat": ("A", ["f1", "f2", "f3"], [], True),
        "dan": ("C", ["f5"], ["python", "data", "ml"], True),
        "eve": ("B", ["f1", "f2", "f3"], ["python", "data"], False),  # opted out
    }
    for name, (team, sources, topics, opted_in) in spec.items():
        people[name] = MemberFactory(team=teams[team], display_name=name.title(), introductions_opt_in=opted_in)
        for key in sources:
            SubscriptionFactory(member=people[name], feed=feeds[key], topics=topics, is_shared=True)
    # A private source never counts: ann and dan both have f4 unshared.
    SubscriptionFactory(member=people["ann"], feed=feeds["f4"], is_shared=False, topics=["secret"])
    SubscriptionFactory(member=people["dan"], feed=feeds["f4"], is_shared=False, topics=["secret"])
    return people


@pytest.fixture
def leader_client(org, client_as):
    """The demo CEO, switched back on (the fixture switched demo people off)."""
    User.objects.filter(email="ceo@example.com").update(is_active=True)
    return client_as("leader")


def _pairs(queryset) -> set[tuple[str, str]]:
    return {tuple(sorted((s.member_a.name, s.member_b.name))) for s in queryset}


def test_suggestions_computed_from_shared_data_of_opted_in_members(org):
    result = suggestions_compute()
    # ann-bob: f1 f2 of f1..f4 = 2/4; ann-dan: topics 2/3 (strangers); bob-cat: 2/4;
    # bob-dan: topics 1/3; cat-dan: nothing. ann-cat same team; eve opted out.
    assert _pairs(current_suggestions()) == {("Ann", "Bob"), ("Ann", "Dan"), ("Bob", "Cat"), ("Bob", "Dan")}
    assert (result["suggestions"], result["strangers"]) == (4, 2)
    ann_bob = current_suggestions().get(
        member_a__display_name__in=["Ann", "Bob"], member_b__display_name__in=["Ann", "Bob"]
    )
    assert (ann_bob.source_similarity, ann_bob.topic_similarity, ann_bob.is_stranger) == (0.5, 0.5, False)
    assert sorted(ann_bob.common_sources) == ["Feed f1", "Feed f2"]
    assert ann_bob.common_topics == ["python"]
    ann_dan = current_suggestions().get(
        member_a__display_name__in=["Ann", "Dan"], member_b__display_name__in=["Ann", "Dan"]
    )
    assert (ann_dan.source_similarity, ann_dan.topic_similarity, ann_dan.is_stranger) == (0.0, 0.6667, True)
    assert "secret" not in ann_dan.common_topics


def test_opting_out_removes_a_member_everywhere(org, client):
    suggestions_compute()
    bob = org["bob"]
    client.force_login(bob.user)
    client.post(reverse("introductions_opt_in"), {})  # unchecked box: opt out
    bob.refresh_from_db()
    assert bob.introductions_opt_in is False
    # Not in current suggestions (before any recomputation), nor after it.
    assert all("Bob" not in pair for pair in _pairs(current_suggestions()))
    suggestions_compute()
    assert all("Bob" not in pair for pair in _pairs(current_suggestions()))
    # Not offered on the introduce form, and the service refuses.
    ann = org["ann"]
    client.force_login(ann.user)
    form_text = text_of(client.get(reverse("introduction_new")))
    assert "Bob (Intro B)" not in form_text
    assert "Cat (Intro A)" in form_text
    with pytest.raises(IntroductionError, match="Bob has not chosen to be introduced"):
        introduction_send(sender=ann.user, member_1=org["cat"], member_2=bob)
    # Their own page shows no suggestions but the opt-in box unchecked.
    client.force_login(bob.user)
    page = text_of(client.get(reverse("people_you_might_meet")))
    assert "Suggested for you" not in page
    assert "No: nobody suggests you" in page


def test_no_repeat_after_decline(org):
    suggestions_compute()
    ceo = MemberFactory(display_name="Leader").user
    introduction = introduction_send(sender=ceo, member_1=org["bob"], member_2=org["ann"], note="Meet!")
    introduction_answer(introduction_id=introduction.pk, member=org["bob"], accept=False)
    suggestions_compute()
    assert ("Ann", "Bob") not in _pairs(current_suggestions())
    assert not IntroductionSuggestion.objects.filter(
        member_a=introduction.member_a, member_b=introduction.member_b, is_current=True
    ).exists()
    with pytest.raises(IntroductionError, match="already been introduced"):
        introduction_send(sender=ceo, member_1=org["ann"], member_2=org["bob"])


def test_introduction_flow_accept_and_did_you_meet_once(org, client):
    ann, bob, cat = org["ann"], org["bob"], org["cat"]
    bob.email_opt_outs = ["introductions"]
    bob.save()
    sender = MemberFactory(display_name="Sender").user
    start = timezone.now()
    before = introduction_funnel(months=1)[0]
    introduction = introduction_send(sender=sender, member_1=bob, member_2=ann, note="You both read Feed f1.")
    assert introduction.state == Introduction.State.SENT
    assert introduction.crosses_teams is True
    # Ann gets an email; Bob opted out of introductions emails.
    assert list(OutboundEmail.objects.filter(kind="introductions").values_list("to", "subject")) == [
        (ann.user.email, "Sender introduced you to Bob")
    ]
    email = OutboundEmail.objects.get(kind="introductions")
    assert introduction_url(introduction) in email.body_text
    assert "You both read Feed f1." in email.body_text
    if importlib.util.find_spec("members.notifications"):
        assert "List-Unsubscribe" in email.headers
    # Ann accepts: waiting for Bob; Ann does not see Bob's address yet.
    introduction_answer(introduction_id=introduction.pk, member=ann, accept=True)
    client.force_login(ann.user)
    page = text_of(client.get(reverse("introduction_detail", kwargs={"introduction_id": introduction.pk})))
    assert "Accepted by one" in page
    assert bob.user.email not in page
    with pytest.raises(IntroductionError, match="already answered"):
        introduction_answer(introduction_id=introduction.pk, member=ann, accept=False)
    # Bob accepts through the page.
    client.force_login(bob.user)
    client.post(reverse("introduction_answer", kwargs={"introduction_id": introduction.pk}), {"answer": "accept"})
    introduction.refresh_from_db()
    assert introduction.state == Introduction.State.ACCEPTED
    page = text_of(client.get(reverse("introduction_detail", kwargs={"introduction_id": introduction.pk})))
    assert ann.user.email in page
    assert "Feed f1" in page  # Ann's shared PLN
    assert "Feed f4" not in page  # Ann's private source
    # Someone else gets a 404; the sender sees the page but no addresses.
    client.force_login(cat.user)
    assert client.get(reverse("introduction_detail", kwargs={"introduction_id": introduction.pk})).status_code == 404
    client.force_login(sender)
    page = text_of(client.get(reverse("introduction_detail", kwargs={"introduction_id": introduction.pk})))
    assert "Accepted by both" in page and ann.user.email not in page
    # "Did you meet?" is asked two weeks later, once; Bob opted out of the email.
    # (The demo's accepted introductions are marked as already followed up.)
    Introduction.objects.exclude(pk=introduction.pk).update(follow_up_sent_at=start)
    assert introductions_follow_up(now=start + timedelta(days=13)) == 0
    assert introductions_follow_up(now=start + timedelta(days=15)) == 1
    assert introductions_follow_up(now=start + timedelta(days=16)) == 0
    assert list(
        OutboundEmail.objects.filter(idempotency_key__contains="did_you_meet").values_list("to", "subject")
    ) == [(ann.user.email, "Did you meet Bob?")]
    client.force_login(ann.user)
    client.post(reverse("introduction_met", kwargs={"introduction_id": introduction.pk}), {"answer": "not_yet"})
    introduction.refresh_from_db()
    assert (introduction.a_met or introduction.b_met, introduction.met_at) == ("not_yet", None)
    introduction_record_met(introduction_id=introduction.pk, member=bob, answer="yes")
    introduction.refresh_from_db()
    assert introduction.state == Introduction.State.MET
    after = introduction_funnel(months=1)[0]
    assert (after["sent"], after["accepted"], after["met"]) == (
        before["sent"] + 1,
        before["accepted"] + 1,
        before["met"] + 1,
    )


def test_decline_hides_contact_and_stops_the_other_answer(org, client):
    introduction = introduction_send(sender=org["cat"].user, member_1=org["ann"], member_2=org["dan"])
    introduction_answer(introduction_id=introduction.pk, member=org["dan"], accept=False)
    client.force_login(org["ann"].user)
    response = client.get(reverse("introduction_detail", kwargs={"introduction_id": introduction.pk}))
    page = text_of(response)
    assert "This introduction was declined" in page
    assert org["dan"].user.email not in page
    assert not [f for f in parse_page(response).forms if f["action"].endswith("/answer")]


def test_a_member_can_ask_to_meet_a_suggested_colleague(org, client):
    suggestions_compute()
    client.force_login(org["dan"].user)
    page = text_of(client.get(reverse("people_you_might_meet")))
    assert "Ann" in page and "stranger: same topics, different sources" in page
    client.post(reverse("introduction_new"), {"member_1": org["dan"].pk, "member_2": org["ann"].pk})
    introduction = Introduction.objects.get(
        member_a__in=[org["ann"], org["dan"]], member_b__in=[org["ann"], org["dan"]]
    )
    assert introduction.answer_of(org["dan"]) == "accepted"
    assert introduction.answer_of(org["ann"]) == "pending"
    assert introduction.reason == "both write about data and python"
    assert list(OutboundEmail.objects.filter(kind="introductions").values_list("to", "subject")) == [
        (org["ann"].user.email, "Dan would like to meet you")
    ]


def test_leader_sends_from_a_suggestion_and_the_funnel_moves(org, leader_client):
    suggestions_compute()
    client = leader_client
    before = introduction_funnel(months=1)[0]
    page = text_of(client.get(reverse("introductions_suggestions")))
    assert "Ann (Intro A) and Bob (Intro B) Both follow Feed f1 and Feed f2; both write about python" in page
    assert "Ann (Intro A) and Dan (Intro C) strangers: same topics, different sources" in page
    assert "Eve" not in page
    suggestion = current_suggestions().get(member_a=org["ann"], member_b=org["bob"])
    form_page = client.get(reverse("introduction_new") + f"?suggestion={suggestion.pk}")
    assert "Suggested: " in text_of(form_page)
    client.post(
        reverse("introduction_new"),
        {"member_1": suggestion.member_a_id, "member_2": suggestion.member_b_id, "note": "Hello both"},
    )
    after = introduction_funnel(months=1)[0]
    assert after["sent"] == before["sent"] + 1
    introduction = Introduction.objects.get(member_a=suggestion.member_a, member_b=suggestion.member_b)
    assert (introduction.from_suggestion, introduction.note) == (True, "Hello both")
    assert introduction.reason.startswith("both follow Feed f")
    page = text_of(client.get(reverse("introductions_suggestions")))
    assert f"{suggestion.member_a.name} and {suggestion.member_b.name} Waiting for both" in page


def test_switches_off_hide_suggestions_and_connectors(org, leader_client, client_as):
    settings_row = OrganizationSettings.get()
    settings_row.introduction_suggestions_enabled = False
    settings_row.connectors_enabled = False
    settings_row.save()
    assert suggestions_compute() == {"skipped": True}
    assert connectors_compute() == {"skipped": True}
    assert IntroductionSuggestion.objects.filter(member_a__in=org.values()).count() == 0
    client = leader_client
    response = client.get(reverse("introductions_suggestions"))
    page = text_of(response)
    assert "Introduction suggestions are switched off" in page
    assert "Who might meet whom" not in page and "Connectors per team" not in page and "Suggested" not in page
    assert reverse("introductions_suggestions") not in parse_page(response).nav_links
    client.force_login(org["ann"].user)
    page = text_of(client.get(reverse("people_you_might_meet")))
    assert "People you might meet" not in page and "connector" not in page.lower()


def test_connectors_in_the_database_with_team_counts(org):
    # Two groups joined by one person: A1..A5 follow g1 g2 g3, B1..B5 follow h1 h2 h3,
    # the bridge follows g1 and h1 (Jaccard 1/4 with everyone).
    team_a, team_b = TeamFactory(name="Alpha"), TeamFactory(name="Beta")
    g = [FeedFactory() for _ in range(3)]
    h = [FeedFactory() for _ in range(3)]
    for team, feeds in ((team_a, g), (team_b, h)):
        for i in range(5):
            member = MemberFactory(team=team)
            for feed in feeds:
                SubscriptionFactory(member=member, feed=feed)
    bridge = MemberFactory(team=team_a, display_name="Bridge")
    SubscriptionFactory(member=bridge, feed=g[0])
    SubscriptionFactory(member=bridge, feed=h[0])
    result = connectors_compute()
    assert result["connectors"] == 1
    assert list(ConnectorStatus.objects.filter(is_connector=True).values_list("member__display_name", flat=True)) == [
        "Bridge"
    ]
    rows = {row["team"]: (row["members"], row["connectors"]) for row in connector_team_counts()}
    # Alpha 6 and Beta 5 shown by name; the fixture's teams (2, 2, 1) merge into "Other teams".
    assert rows == {"Alpha": (6, 1), "Beta": (5, 0), "Other teams": (5, 0)}


def test_connector_status_is_private_to_the_member(org, client):
    ConnectorStatus.objects.create(member=org["ann"], is_connector=True, computed_at=timezone.now())
    client.force_login(org["ann"].user)
    assert "You are a connector" in text_of(client.get(reverse("people_you_might_meet")))
    client.force_login(org["bob"].user)
    assert "You are a connector" not in text_of(client.get(reverse("people_you_might_meet")))


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_people_page_queries_do_not_grow(org, client):
    ann = org["ann"]
    sender = MemberFactory().user
    others = [MemberFactory(introductions_opt_in=True) for _ in range(4)]
    client.force_login(ann.user)
    introduction_send(sender=sender, member_1=ann, member_2=org["bob"])
    suggestions_compute()
    one = _queries(client, reverse("people_you_might_meet"))
    for other in others:
        introduction_send(sender=sender, member_1=ann, member_2=other)
    assert _queries(client, reverse("people_you_might_meet")) == one


def test_leaders_page_queries_do_not_grow(org, leader_client):
    client = leader_client
    leader = User.objects.get(email="ceo@example.com")
    suggestions_compute()
    introduction_send(sender=leader, member_1=org["ann"], member_2=org["dan"])
    one = _queries(client, reverse("introductions_suggestions"))
    introduction_send(sender=leader, member_1=org["bob"], member_2=org["dan"])
    introduction_send(sender=leader, member_1=org["cat"], member_2=org["dan"])
    assert _queries(client, reverse("introductions_suggestions")) == one


def test_demo_has_introductions_in_every_state(db):
    states = {i.state for i in Introduction.objects.all()}
    assert states >= {"sent", "accepted_by_one", "accepted", "declined", "met"}
    assert current_suggestions().exists()


def test_demo_seeding_is_idempotent(db):
    from members.models import Member
    from plnorg.introductions.demo import OPTED_IN, seed_introductions

    members = {m.user.email.split("@")[0]: m for m in Member.objects.select_related("user")}
    before = (Introduction.objects.count(), current_suggestions().count())
    seed_introductions(members)
    assert (Introduction.objects.count(), current_suggestions().count()) == before
    assert sorted(Member.objects.filter(introductions_opt_in=True).values_list("user__email", flat=True)) == sorted(
        f"{local}@example.com" for local in OPTED_IN
    )


@pytest.mark.timeout(120)
def test_bench_smoke_runs():
    result = bench_smoke_run("bench/introductions.py", timeout=110)
    assert "suggestions:" in result.stdout and "peak memory" in result.stdout


@pytest.mark.django_db
def test_onboarding_offers_the_introductions_opt_in(client_as, persona_user):
    from django.urls import reverse

    from tests.pages import text_of

    client = client_as("new")
    page = client.get(reverse("feeds:onboarding"))
    assert "Yes, I can be suggested for introductions" in text_of(page)
    response = client.post(reverse("introductions_opt_in"), {"opt_in": "1", "next": reverse("feeds:onboarding")})
    assert response["Location"] == reverse("feeds:onboarding")
    member = persona_user("new").member
    member.refresh_from_db()
    assert member.introductions_opt_in is True
    assert "You can be suggested for introductions." in text_of(client.get(reverse("feeds:onboarding")))
    evil = client.post(reverse("introductions_opt_in"), {"opt_in": "0", "next": "https://evil.example/"})
    assert evil["Location"] == reverse("people_you_might_meet")
