"""Member pages of issue 9 not covered elsewhere: the resource library (search
and filters), the resources a workshop links to, and "my workshops"."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.template.defaultfilters import date as date_filter
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import MemberFactory
from tests.pages import client_for, parse_page, text_of
from tests.workshops.factories import RegistrationFactory, ResourceFactory, TopicFactory, WorkshopFactory
from workshops.models import Resource, Workshop
from workshops.services.feedback import feedback_submit

pytestmark = pytest.mark.django_db

LIBRARY = reverse("workshops:resources")
MINE = reverse("workshops:mine")


def items(html: str, after: str | None = None) -> list[str]:
    """The visible text of each <li> of the first list after heading `after`
    (or of the first <ul> on the page's main list)."""
    if after is not None:
        html = html.split(after, 1)[1]
    block = re.search(r"<[ou]l[^>]*data-list[^>]*>(.*?)</[ou]l>", html, re.S).group(1)
    return [text_of(li) for li in re.findall(r"<li[^>]*>(.*?)</li>", block, re.S)]


# --- The resource library --------------------------------------------------------------------


@pytest.fixture
def library():
    fediverse = TopicFactory(slug="zq-fediverse", name="Zq Fediverse")
    kit = ResourceFactory(
        title="Zq Mastodon starter kit",
        kind=Resource.Kind.HOW_TO_START,
        topic=fediverse,
        audience="Researchers",
        description="Follow quokkas, then people.",
        url="https://kit.example.net/start",
    )
    reading = ResourceFactory(
        title="Zq Reading list",
        kind=Resource.Kind.REFERENCE,
        audience="Zq newcomers",
        description="Papers on learning networks.",
        url="https://papers.example.net/list",
    )
    guide = ResourceFactory(
        title="Zq Starting with feeds",
        kind=Resource.Kind.GUIDE,
        topic=fediverse,
        url="",
        file="workshops/resources/0123abcd/rss-guide.pdf",
        file_name="rss-guide.pdf",
        content_type="application/pdf",
        size_bytes=2048,
    )
    return {"topic": fediverse, "kit": kit, "reading": reading, "guide": guide}


def library_items(client, **params) -> list[str]:
    return items(client.get(LIBRARY, params).content.decode())


def library_titles(client, **params) -> list[str]:
    html = client.get(LIBRARY, params).content.decode()
    return [text_of(h) for h in re.findall(r'<h2 class="workshop-title">(.*?)</h2>', html, re.S)]


def test_library_lists_every_resource_with_kind_topic_audience_and_description(library):
    client = client_for(MemberFactory().user)

    response = client.get(LIBRARY)

    listed = items(response.content.decode())
    mine = [text for text in listed if text.startswith("Zq ")]
    assert mine == [
        "Zq Mastodon starter kit How to start Zq Fediverse · For Researchers Follow quokkas, then people.",
        "Zq Reading list Reference · For Zq newcomers Papers on learning networks.",
        "Zq Starting with feeds (2.0 KB) Guide Zq Fediverse",
    ]
    assert len(listed) == Resource.objects.count()
    links = parse_page(response).links
    assert "https://kit.example.net/start" in links
    assert reverse("workshops:resource_file", args=[library["guide"].pk]) in links
    assert "Add to the library" not in text_of(response)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "quokkas"}, ["Zq Mastodon starter kit"]),  # the description
        ({"q": "zq READING"}, ["Zq Reading list"]),  # the title, any case
        ({"q": "Zq newcomers"}, ["Zq Reading list"]),  # the audience
        ({"topic": "zq-fediverse"}, ["Zq Mastodon starter kit", "Zq Starting with feeds (2.0 KB)"]),
        ({"q": "Zq", "kind": "how_to_start"}, ["Zq Mastodon starter kit"]),
        ({"q": "Zq", "kind": "guide", "topic": "zq-fediverse"}, ["Zq Starting with feeds (2.0 KB)"]),
    ],
)
def test_library_search_and_filters(library, params, expected):
    client = client_for(MemberFactory().user)

    assert library_titles(client, **params) == expected


def test_library_kind_filter_alone_shows_only_that_kind(library):
    client = client_for(MemberFactory().user)

    body = client.get(LIBRARY, {"kind": "how_to_start"}).content.decode()

    badges = re.findall(r'<p class="entry-meta"><span class="badge">([^<]+)</span>', body)
    assert badges and set(badges) == {"How to start"}
    assert len(badges) == Resource.objects.filter(kind="how_to_start").count()


def test_library_says_when_nothing_matches(library):
    client = client_for(MemberFactory().user)

    assert library_items(client, q="no such thing anywhere") == [
        "Nothing found. Try another word or clear the filters."
    ]


def test_library_shows_add_and_remove_to_facilitators(library, facilitator):
    body = client_for(facilitator).get(LIBRARY, {"q": "Zq Reading"})

    assert "Add to the library" in text_of(body)
    assert [f["action"] for f in parse_page(body).forms if "/resources/" in f["action"]] == [
        reverse("workshops:resource_remove", args=[library["reading"].pk])
    ]


def test_library_query_count_does_not_grow():
    client = client_for(MemberFactory().user)
    topic = TopicFactory()
    ResourceFactory(topic=topic)
    client.get(LIBRARY)
    with CaptureQueriesContext(connection) as few:
        client.get(LIBRARY)
    for _ in range(5):
        ResourceFactory(topic=TopicFactory())
    with CaptureQueriesContext(connection) as many:
        client.get(LIBRARY)

    assert len(many) == len(few)


# --- Workshops link to the library -------------------------------------------------------------


def test_workshop_detail_lists_its_library_resources(library):
    workshop = WorkshopFactory()
    workshop.resources.add(library["kit"], library["guide"])
    client = client_for(MemberFactory().user)

    response = client.get(reverse("workshops:detail", args=[workshop.pk]))

    html = response.content.decode()
    assert items(html, after="From the resource library</h2>") == [
        "Zq Mastodon starter kit How to start",
        "Zq Starting with feeds Guide",
    ]
    links = parse_page(response).links
    assert "https://kit.example.net/start" in links
    assert reverse("workshops:resource_file", args=[library["guide"].pk]) in links


def test_workshop_without_resources_points_to_the_library():
    workshop = WorkshopFactory()
    client = client_for(MemberFactory().user)

    response = client.get(reverse("workshops:detail", args=[workshop.pk]))

    assert items(response.content.decode(), after="From the resource library</h2>") == [
        "No linked resources. Browse the library"
    ]
    assert LIBRARY in parse_page(response).links


# --- My workshops ---------------------------------------------------------------------------------


def when(workshop: Workshop) -> str:
    return date_filter(timezone.localtime(workshop.starts_at), "D j M Y, H:i")


def test_my_workshops_upcoming_by_date_past_with_feedback_state():
    member = MemberFactory()
    later = WorkshopFactory(title="Zq Later", sessions__starts_in=timedelta(days=20))
    sooner = WorkshopFactory(title="Zq Sooner", capacity=1, sessions__starts_in=timedelta(days=3))
    called_off = WorkshopFactory(title="Zq Called off", status="cancelled", sessions__starts_in=timedelta(days=9))
    dropped = WorkshopFactory(title="Zq Dropped")
    long_ago = WorkshopFactory(title="Zq Long ago", status="finished", sessions__starts_in=-timedelta(days=60))
    last_week = WorkshopFactory(title="Zq Last week", status="finished", sessions__starts_in=-timedelta(days=7))
    missed = WorkshopFactory(title="Zq Missed", status="finished", sessions__starts_in=-timedelta(days=30))
    RegistrationFactory(workshop=later, member=member)
    RegistrationFactory(workshop=sooner, member=member, status="waitlisted", waitlist_position=2)
    RegistrationFactory(workshop=called_off, member=member)
    RegistrationFactory(workshop=dropped, member=member, status="cancelled")
    answered = RegistrationFactory(workshop=long_ago, member=member, status="attended")
    feedback_submit(registration=answered, rating=4, comment="Useful")
    RegistrationFactory(workshop=last_week, member=member, status="partial")
    RegistrationFactory(workshop=missed, member=member, status="no_show")

    response = client_for(member.user).get(MINE)

    html = response.content.decode()
    assert items(html, after="Coming up</h2>") == [
        f"Zq Sooner Waitlist position 2 {when(sooner)}",
        f"Zq Called off Registered Workshop cancelled {when(called_off)}",
        f"Zq Later Registered {when(later)}",
    ]
    assert items(html, after="Past</h2>") == [
        "Zq Last week Attended in part Give your feedback",
        "Zq Missed Did not attend",
        "Zq Long ago Attended feedback given, thank you",
    ]
    links = parse_page(response).links
    assert reverse("workshops:feedback", args=[last_week.pk]) in links
    assert reverse("workshops:feedback", args=[long_ago.pk]) not in links
    assert reverse("workshops:feedback", args=[missed.pk]) not in links
    assert "Zq Dropped" not in text_of(response)


def test_my_workshops_empty_states_and_calendar_address():
    member = MemberFactory()
    client = client_for(member.user)

    before = text_of(client.get(MINE))
    client.post(reverse("workshops:calendar_reset"))
    after = client.get(MINE)

    assert "You are not registered for any upcoming workshop. See upcoming workshops" in before
    assert "No past workshops yet. After you attend one, you can rate it here." in before
    assert "Create my calendar address" in before
    token = member.workshop_calendar.token
    assert f'value="http://testserver/workshops/calendar/{token}.ics"' in after.content.decode()
    assert "Replace my calendar address" in text_of(after)


def test_my_workshops_query_count_does_not_grow():
    member = MemberFactory()
    client = client_for(member.user)
    RegistrationFactory(member=member)
    client.get(MINE)
    with CaptureQueriesContext(connection) as few:
        client.get(MINE)
    for days in (-20, -10, 5, 12):
        workshop = WorkshopFactory(sessions=2, sessions__starts_in=timedelta(days=days))
        RegistrationFactory(workshop=workshop, member=member, status="attended" if days < 0 else "registered")
    with CaptureQueriesContext(connection) as many:
        client.get(MINE)

    assert len(many) == len(few)
