"""Pages: list (filters, query count), detail states, facilitator pages,
bad input, roster CSV, duplicate, offboarding and my data."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.lifecycle import DATA_PARTS, OFFBOARDING
from tests.factories import MemberFactory
from tests.pages import client_for, text_of
from tests.workshops.factories import RegistrationFactory, TopicFactory, WorkshopFactory
from workshops.models import Registration, Workshop, WorkshopSession

pytestmark = pytest.mark.django_db


def test_list_filters_topic_mode_and_seats_left():
    topic = TopicFactory(slug="zz-test-topic", name="Zz test topic")
    online = WorkshopFactory(title="Zz online", sessions__mode=WorkshopSession.Mode.ONLINE)
    online.topics.add(topic)
    full = WorkshopFactory(title="Zz full", capacity=1)
    RegistrationFactory(workshop=full)
    WorkshopFactory(title="Zz draft", status=Workshop.Status.DRAFT)
    client = client_for(MemberFactory().user)

    everything = text_of(client.get(reverse("workshops:list")))
    by_topic = text_of(client.get(reverse("workshops:list"), {"topic": "zz-test-topic"}))
    by_mode = text_of(client.get(reverse("workshops:list"), {"mode": "online"}))
    with_seats = text_of(client.get(reverse("workshops:list"), {"seats_left": "on"}))

    assert "Zz online" in everything and "Zz full" in everything and "Zz draft" not in everything
    assert "Full: waitlist open" in everything
    assert ("Zz online" in by_topic, "Zz full" in by_topic) == (True, False)
    assert ("Zz online" in by_mode, "Zz full" in by_mode) == (True, False)
    assert ("Zz online" in with_seats, "Zz full" in with_seats) == (True, False)


def test_list_rows_read_as_the_template_wrote_them():
    """The list's rows are built in Python (workshops.views.member): exact
    markup for a waitlisted member of a two-session online workshop with
    topics, and for a full in-person one without a registration."""
    member = MemberFactory()
    first = WorkshopFactory(
        title='Tom & "Jerry"', capacity=1, sessions=2, sessions__mode=WorkshopSession.Mode.ONLINE,
        sessions__starts_in=timedelta(days=400),
    )  # fmt: skip
    first.topics.add(TopicFactory(name="Mastodon & <Bluesky>", slug="zz-mb"), TopicFactory(name="Blogs", slug="zz-b"))
    RegistrationFactory(workshop=first)
    Registration.objects.create(workshop=first, member=member, status="waitlisted", waitlist_position=2)
    full = WorkshopFactory(title="Zz full", capacity=1, sessions__starts_in=timedelta(days=401))
    RegistrationFactory(workshop=full)
    start = timezone.localtime(first.sessions.order_by("starts_at").first().starts_at).strftime("%a %-d %b %Y, %H:%M")
    full_start = timezone.localtime(full.sessions.get().starts_at).strftime("%a %-d %b %Y, %H:%M")

    page = client_for(member.user).get(reverse("workshops:list")).content.decode()

    assert (
        "\n  <li>\n"
        f'    <h2 class="workshop-title"><a href="/workshops/{first.pk}/">Tom &amp; &quot;Jerry&quot;</a> '
        '<span class="badge badge-warn">Waitlist position 2</span>\n</h2>\n'
        '    <p class="entry-meta">\n'
        f"      {start} · Online\n"
        "      · 2 sessions\n"
        "      · Full: waitlist open\n"
        '       <span class="badge">Blogs</span> <span class="badge">Mastodon &amp; &lt;Bluesky&gt;</span>\n'
        "    </p>\n"
        "  </li>\n  "
        "\n  <li>\n"
        f'    <h2 class="workshop-title"><a href="/workshops/{full.pk}/">Zz full</a> \n</h2>\n'
        '    <p class="entry-meta">\n'
        f"      {full_start} · In person\n"
        "      · 1 session\n"
        "      · Full: waitlist open\n"
        "      \n"
        "    </p>\n"
        "  </li>\n  \n</ul>"
    ) in page


def test_list_query_count_does_not_grow():
    client = client_for(MemberFactory().user)
    WorkshopFactory()
    client.get(reverse("workshops:list"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("workshops:list"))
    for _ in range(5):
        w = WorkshopFactory(sessions=2)
        w.topics.add(TopicFactory())
        RegistrationFactory(workshop=w)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("workshops:list"))

    assert len(many) == len(few)


def test_manage_list_query_count_does_not_grow(facilitator):
    client = client_for(facilitator)
    WorkshopFactory(facilitators=[facilitator])
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("workshops:manage"))
    for _ in range(4):
        RegistrationFactory(workshop=WorkshopFactory(facilitators=[facilitator], sessions=2))
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("workshops:manage"))

    assert len(many) == len(few)


def test_detail_shows_waitlist_position_and_hides_link():
    workshop = WorkshopFactory(capacity=1, sessions__mode=WorkshopSession.Mode.ONLINE)
    RegistrationFactory(workshop=workshop)
    member = MemberFactory()
    client = client_for(member.user)

    response = client.post(reverse("workshops:register", kwargs={"pk": workshop.pk}), follow=True)

    body = text_of(response)
    assert "You are on the waitlist at position 1." in body
    assert "the link is shown to registered people" in body
    assert "secret-room" not in response.content.decode()


def test_only_the_workshops_facilitators_see_its_tools_on_its_page(facilitator):
    """can_manage reads the page's prefetched facilitators (no query of its own)."""
    mine = WorkshopFactory(facilitators=[facilitator])
    other = WorkshopFactory(facilitators=[MemberFactory().user])

    def tools(client, workshop):
        return "Facilitator tools" in text_of(client.get(reverse("workshops:detail", kwargs={"pk": workshop.pk})))

    facilitator_client, member_client = client_for(facilitator), client_for(MemberFactory().user)
    assert (tools(facilitator_client, mine), tools(facilitator_client, other)) == (True, False)
    assert (tools(member_client, mine), tools(member_client, other)) == (False, False)
    with CaptureQueriesContext(connection) as queries:
        facilitator_client.get(reverse("workshops:detail", kwargs={"pk": mine.pk}))
    probes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT 1 AS "a" FROM "members_user"')]
    assert probes == []  # the facilitator check of old: "is this user among them?"


def test_draft_and_other_facilitators_workshops_are_404(facilitator):
    draft = WorkshopFactory(status=Workshop.Status.DRAFT)
    not_mine = WorkshopFactory()
    member_client = client_for(MemberFactory().user)
    facilitator_client = client_for(facilitator)

    assert member_client.get(reverse("workshops:detail", kwargs={"pk": draft.pk})).status_code == 404
    for name in ("edit", "roster", "roster_csv", "materials", "feedback_results", "follow_up"):
        assert facilitator_client.get(reverse(f"workshops:{name}", kwargs={"pk": not_mine.pk})).status_code == 404
    assert facilitator_client.post(reverse("workshops:cancel", kwargs={"pk": not_mine.pk})).status_code == 404
    not_mine.refresh_from_db()
    assert not_mine.status == "published"


def _create_data(**overrides):
    day = (timezone.now() + timedelta(days=30)).date().isoformat()
    data = {
        "title": "Feeds 101",
        "description": "Hello <script>alert(1)</script> **world**",
        "audience": "Everyone",
        "capacity": "12",
        "sessions-TOTAL_FORMS": "1",
        "sessions-INITIAL_FORMS": "0",
        "sessions-MIN_NUM_FORMS": "0",
        "sessions-MAX_NUM_FORMS": "20",
        "sessions-0-day": day,
        "sessions-0-start": "10:00",
        "sessions-0-end": "12:00",
        "sessions-0-time_zone": "Europe/Paris",
        "sessions-0-mode": "online",
        "sessions-0-online_url": "https://meet.example.com/feeds",
    }
    data.update(overrides)
    return data


def test_create_publish_and_sanitized_description(facilitator):
    client = client_for(facilitator)

    response = client.post(reverse("workshops:create"), _create_data(), follow=True)
    workshop = Workshop.objects.get(title="Feeds 101")
    client.post(reverse("workshops:publish", kwargs={"pk": workshop.pk}))

    workshop.refresh_from_db()
    assert "Workshop saved." in text_of(response)
    assert workshop.status == "published"
    assert list(workshop.facilitators.all()) == [facilitator]
    assert workshop.session_list[0].duration_minutes == 120
    assert "<strong>world</strong>" in response.content.decode()
    assert "<script>alert" not in response.content.decode()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sessions-0-end": "09:00"}, "The session ends before it starts."),
        ({"sessions-0-online_url": "javascript:alert(1)"}, "The online link must be an http(s) address"),
        ({"sessions-0-online_url": "ftp://files.example.com/x"}, "The online link must be an http(s) address"),
        ({"sessions-0-online_url": ""}, "An online session needs its link."),
        (
            {"sessions-0-day": "2027-03-28", "sessions-0-start": "02:30", "sessions-0-end": "04:00"},
            "02:30 does not exist on 2027-03-28 in Europe/Paris",
        ),
        (
            {"sessions-0-day": "2027-10-31", "sessions-0-start": "02:30", "sessions-0-end": "04:00"},
            "02:30 happens twice on 2027-10-31 in Europe/Paris",
        ),
    ],
)
def test_bad_session_input_is_refused_and_nothing_saved(facilitator, overrides, message):
    client = client_for(facilitator)

    response = client.post(reverse("workshops:create"), _create_data(**overrides))

    assert message in text_of(response)
    assert not Workshop.objects.filter(title="Feeds 101").exists()


def test_session_across_dst_change_has_its_real_length(facilitator):
    client = client_for(facilitator)

    client.post(
        reverse("workshops:create"),
        _create_data(**{"sessions-0-day": "2027-10-31", "sessions-0-start": "01:00", "sessions-0-end": "04:00"}),
    )

    session = Workshop.objects.get(title="Feeds 101").session_list[0]
    assert session.duration_minutes == 4 * 60


def test_duplicate_makes_a_future_draft_at_the_same_local_time(facilitator):
    past = WorkshopFactory(facilitators=[facilitator], sessions__starts_in=timedelta(days=-60), status="finished")
    client = client_for(facilitator)

    client.post(reverse("workshops:duplicate", kwargs={"pk": past.pk}))

    copy = Workshop.objects.get(duplicated_from=past)
    old, new = past.session_list[0], copy.session_list[0]
    assert copy.status == "draft"
    assert new.starts_at > timezone.now()
    assert (new.starts_at - old.starts_at).days % 7 in (0, 6)
    assert new.starts_at.astimezone(new.tzinfo).time() == old.starts_at.astimezone(old.tzinfo).time()


def test_roster_csv_and_register_on_behalf(facilitator):
    workshop = WorkshopFactory(capacity=1, facilitators=[facilitator])
    first = RegistrationFactory(workshop=workshop)
    other = MemberFactory(display_name="=cmd")
    client = client_for(facilitator)

    response = client.post(
        reverse("workshops:register_other", kwargs={"pk": workshop.pk}),
        {"email": other.user.email, "overbook": "on"},
        follow=True,
    )
    rows = list(
        csv.reader(
            io.StringIO(client.get(reverse("workshops:roster_csv", kwargs={"pk": workshop.pk})).content.decode())
        )
    )

    assert "=cmd: Registered." in text_of(response)
    assert rows[0][:6] == ["name", "email", "team", "status", "waitlist_position", "overbooked"]
    assert [(r[1], r[3], r[5]) for r in rows[1:]] == [
        (first.member.user.email, "registered", ""),
        (other.user.email, "registered", "yes"),
    ]
    assert rows[2][0] == "'=cmd"


def test_offboarding_reassigns_upcoming_workshops_and_frees_seats(facilitator):
    leaving = facilitator.member
    replacement = MemberFactory()
    upcoming = WorkshopFactory(facilitators=[facilitator])
    past = WorkshopFactory(facilitators=[facilitator], sessions__starts_in=timedelta(days=-10))
    seat_workshop = WorkshopFactory(capacity=1)
    RegistrationFactory(workshop=seat_workshop, member=leaving)
    waiting = RegistrationFactory(workshop=seat_workshop, status="waitlisted", waitlist_position=1)
    hook = dict(OFFBOARDING)["workshops"]

    hook(member=leaving, actor=None, replacement=replacement)

    assert list(upcoming.facilitators.all()) == [replacement.user]
    assert list(past.facilitators.all()) == [facilitator]
    waiting.refresh_from_db()
    assert waiting.status == "registered"


def test_data_part_exports_and_deletes_registrations_and_feedback():
    workshop = WorkshopFactory(sessions__starts_in=timedelta(days=-10), status="finished")
    registration = RegistrationFactory(workshop=workshop, status="attended")
    from workshops.services.feedback import feedback_submit

    feedback_submit(registration=registration, rating=5, comment="Loved it")
    part = next(p for p in DATA_PARTS if p.name == "workshops")

    exported = part.export(member=registration.member)
    part.delete(member=registration.member)

    assert exported["registrations"][0]["workshop"] == workshop.title
    assert exported["registrations"][0]["feedback"]["comment"] == "Loved it"
    assert not Registration.objects.filter(pk=registration.pk).exists()
