"""Demo workshops for `seed_demo`: past ones with attendance and feedback
(the latest two weeks ago), upcoming ones with registrations and a waitlist,
a draft, and a small library. Idempotent: a workshop whose title exists is
left as it is; the follow-up dates of attendees' subscriptions (FOLLOW_UPS)
are set again on every run, adding no row. `seed_attendance_time` then gives
the attended sessions their time on the clock, as marking attendance does
(kept in step by the clock service, never duplicated)."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from feeds.demo import DEMO_FEEDS
from feeds.models import Subscription
from members.models import Member, User

from .clock.services import time_entry_record_attendance
from .models import Attendance, Feedback, Registration, RegistrationEvent, Resource, Topic, Workshop, WorkshopSession

TOPICS = [
    ("Getting started", "getting-started"),
    ("Curation", "curation"),
    ("Mastodon", "mastodon"),
    ("Blogging", "blogging"),
    ("Podcasts", "podcasts"),
]

RESOURCES = [
    ("What is a personal learning network?", "how_to_start", "getting-started", "https://en.wikipedia.org/wiki/Personal_learning_network", "Everyone"),
    ("Seek > Sense > Share: a framework for PKM", "guide", "curation", "https://jarche.com/pkm/", "Everyone"),
    ("Joining Mastodon: a first-week checklist", "how_to_start", "mastodon", "https://joinmastodon.org/", "Researchers"),
    ("RSS readers compared", "reference", "curation", "https://en.wikipedia.org/wiki/Comparison_of_feed_aggregators", "Everyone"),
]  # fmt: skip

FEEDBACK = [
    (5, "Add three blogs from colleagues to my reader", "Clear and practical."),
    (4, "Set up a feed reader", "More time for questions next time."),
    (5, "Share one thing a week", ""),
    (3, "Follow two researchers on Mastodon", "A bit fast for me."),
    (4, "Start a work log", "Liked the examples."),
    (5, "Try the weekly digest", "Great group."),
    (4, "Curate a list for my team", ""),
]

# (attendee, demo feed key, days after their first workshop): a shared
# subscription they added then (within 30 or 90 days: the workshop effect).
FOLLOW_UPS = [
    ("employee", "django", 9),
    ("ben", "oss", 20),
    ("dana", "datasci", 12),
    ("eli", "ux", 45),
    ("fatima", "oss", 25),
    ("wen", "datasci", 70),
    ("rhea", "evidence", 6),
    ("xavier", "leader", 20),
    ("zoe", "cs", 3),
    ("people", "topfloor", 5),
    ("gus", "ux", 4),
    ("iris", "rhea", 8),
]


def _at(days: int, hour: int, tz: str = "Europe/Paris") -> datetime:
    day = (timezone.now() + timedelta(days=days)).astimezone(zoneinfo.ZoneInfo(tz)).date()
    local = datetime(day.year, day.month, day.day, hour, 0, tzinfo=zoneinfo.ZoneInfo(tz))
    return local.astimezone(zoneinfo.ZoneInfo("UTC"))


def _workshop(title: str, *, facilitators, topics, sessions, **fields) -> tuple[Workshop, bool]:
    existing = Workshop.objects.filter(title=title).first()
    if existing is not None:
        return existing, False
    workshop = Workshop.objects.create(title=title, created_by=facilitators[0], **fields)
    workshop.facilitators.set(facilitators)
    workshop.topics.set(topics)
    for starts_days, hour, hours, mode, where in sessions:
        WorkshopSession.objects.create(
            workshop=workshop,
            starts_at=_at(starts_days, hour),
            ends_at=_at(starts_days, hour) + timedelta(hours=hours),
            time_zone="Europe/Paris",
            mode=mode,
            room=where if mode == WorkshopSession.Mode.IN_PERSON else "",
            online_url=where if mode == WorkshopSession.Mode.ONLINE else "",
        )
    return workshop, True


def _register(workshop: Workshop, member: Member, *, status: str, position: int | None = None, when=None):
    registration = Registration.objects.create(
        workshop=workshop,
        member=member,
        status=status,
        waitlist_position=position,
        created_at=when or timezone.now(),
    )
    RegistrationEvent.objects.create(
        registration=registration,
        status=status,
        waitlist_position=position,
        actor=member.user,
        created_at=when or timezone.now(),
    )
    return registration


def _attend(registration: Registration, marks: list[tuple[str, int]], marked_by) -> None:
    sessions = list(registration.workshop.sessions.order_by("starts_at"))
    for session, (status, minutes) in zip(sessions, marks, strict=False):
        Attendance.objects.create(
            registration=registration, session=session, status=status, minutes=minutes, marked_by=marked_by
        )
        RegistrationEvent.objects.create(
            registration=registration,
            status=status,
            session=session,
            minutes=minutes,
            actor=marked_by,
            created_at=session.ends_at,
        )
    statuses = [s for s, _m in marks]
    if all(s == "attended" for s in statuses):
        overall = Registration.Status.ATTENDED
    elif any(s in ("attended", "partial") for s in statuses):
        overall = Registration.Status.PARTIAL
    elif all(s == "excused" for s in statuses):
        overall = Registration.Status.EXCUSED
    else:
        overall = Registration.Status.NO_SHOW
    registration.status = overall
    registration.save(update_fields=["status"])


def _feedback(registration: Registration, rating: int, next_step: str, comment: str) -> Feedback:
    """An answer given the day after the workshop's last session."""
    last = registration.workshop.sessions.order_by("-ends_at").first()
    return Feedback.objects.create(
        registration=registration,
        rating=rating,
        next_step=next_step,
        comment=comment,
        created_at=last.ends_at + timedelta(days=1),
    )


def _follow_ups(members: dict[str, Member]) -> None:
    """After a workshop, attendees add what they heard about: date one of
    their shared subscriptions FOLLOW_UPS days after the end of the first
    session they attended, so the dashboard's workshop effect shows it."""
    for local, feed_key, days in FOLLOW_UPS:
        if local not in members:
            continue
        first = (
            Attendance.objects.filter(registration__member=members[local], status__in=["attended", "partial"])
            .order_by("session__ends_at")
            .values_list("session__ends_at", flat=True)
            .first()
        )
        if first is None:
            continue
        added_at = min(first + timedelta(days=days), timezone.now() - timedelta(hours=1))
        Subscription.objects.filter(member=members[local], feed__url=DEMO_FEEDS[feed_key].url, is_shared=True).update(
            added_at=added_at
        )


@transaction.atomic
def seed_workshops(members: dict[str, Member]) -> dict[str, Workshop]:
    topics = {slug: Topic.objects.get_or_create(slug=slug, defaults={"name": name})[0] for name, slug in TOPICS}
    lena, kofi = members["facilitator"].user, members["kofi"].user
    for title, kind, topic, url, audience in RESOURCES:
        Resource.objects.get_or_create(
            title=title,
            defaults={"kind": kind, "topic": topics[topic], "url": url, "audience": audience, "created_by": lena},
        )
    in_person, online = WorkshopSession.Mode.IN_PERSON, WorkshopSession.Mode.ONLINE
    result = {}

    # 1. Past, two sessions, attendance and 7 feedback answers.
    workshop, created = _workshop(
        "What is a PLN?",
        facilitators=[lena, kofi],
        topics=[topics["getting-started"]],
        sessions=[(-100, 10, 2, in_person, "Room Ada, 2nd floor"), (-93, 10, 2, in_person, "Room Ada, 2nd floor")],
        description="An introduction to **personal learning networks**: who you learn from, and how.",
        audience="Everyone",
        capacity=12,
        status=Workshop.Status.FINISHED,
        prework_note="Write down three people or sites you learned something from this month.",
    )
    result["what_is_a_pln"] = workshop
    if created:
        workshop.resources.set(Resource.objects.filter(topic=topics["getting-started"]))
        people = ["employee", "ben", "chen", "dana", "eli", "fatima", "sam", "tomas", "uma", "wen"]
        marks = {
            "eli": [("attended", 120), ("partial", 60)],
            "tomas": [("no_show", 0), ("no_show", 0)],
            "uma": [("excused", 0), ("excused", 0)],
        }
        answered = 0
        for local in people:
            registration = _register(
                workshop,
                members[local],
                status=Registration.Status.REGISTERED,
                when=timezone.now() - timedelta(days=110),
            )
            _attend(registration, marks.get(local, [("attended", 120), ("attended", 120)]), lena)
            if registration.status in ("attended", "partial") and local != "employee" and answered < len(FEEDBACK):
                _feedback(registration, *FEEDBACK[answered])
                answered += 1
            registration.feedback_requested_at = timezone.now() - timedelta(days=92)
            registration.save(update_fields=["feedback_requested_at"])

    # 2. Past, one session, 5 answers.
    workshop, created = _workshop(
        "Curating your sources",
        facilitators=[lena],
        topics=[topics["curation"]],
        sessions=[(-40, 14, 2, online, "https://meet.example.com/curating")],
        description="Pick, prune and organise the feeds you learn from.\n\n- a reader\n- a weekly habit",
        audience="Everyone",
        capacity=8,
        status=Workshop.Status.FINISHED,
    )
    result["curating"] = workshop
    if created:
        people = ["rhea", "victor", "xavier", "yara", "zoe", "amir", "bella", "employee"]
        for index, local in enumerate(people):
            registration = _register(
                workshop,
                members[local],
                status=Registration.Status.REGISTERED,
                when=timezone.now() - timedelta(days=50),
            )
            _attend(registration, [("no_show", 0)] if local in ("amir", "bella") else [("attended", 120)], lena)
            if registration.status == "attended" and local != "employee":
                _feedback(registration, *FEEDBACK[index])

    # 3. Past, two weeks ago: the leaders' dashboard's last four weeks show
    # attendance and feedback, and Design and the trainee took part.
    workshop, created = _workshop(
        "Share what you learn",
        facilitators=[lena],
        topics=[topics["blogging"], topics["curation"]],
        sessions=[(-12, 14, 2, in_person, "Room Lovelace")],
        description="Working out loud: small, regular notes on what you read, for colleagues.",
        audience="Everyone",
        capacity=12,
        status=Workshop.Status.FINISHED,
        published_at=timezone.now() - timedelta(days=30),
    )
    result["share"] = workshop
    if created:
        people = ["ceo", "coo", "people", "kofi", "lucia", "mika", "nils", "dora", "gus", "hana", "iris"]
        marks = {"coo": [("no_show", 0)], "hana": [("partial", 60)], "nils": [("excused", 0)]}
        answered = 0
        for local in people:
            registration = _register(
                workshop,
                members[local],
                status=Registration.Status.REGISTERED,
                when=timezone.now() - timedelta(days=20),
            )
            _attend(registration, marks.get(local, [("attended", 120)]), lena)
            if registration.status in ("attended", "partial") and answered < len(FEEDBACK):
                _feedback(registration, *FEEDBACK[len(FEEDBACK) - 1 - answered])
                answered += 1
            registration.feedback_requested_at = timezone.now() - timedelta(days=11)
            registration.save(update_fields=["feedback_requested_at"])

    # 4. Upcoming, online, full with a waitlist.
    workshop, created = _workshop(
        "Mastodon for researchers",
        facilitators=[kofi],
        topics=[topics["mastodon"]],
        sessions=[(10, 15, 1, online, "https://meet.example.com/mastodon")],
        description="Find your community on the fediverse, follow hashtags and share your work.",
        audience="Researchers",
        capacity=6,
        status=Workshop.Status.PUBLISHED,
        published_at=timezone.now() - timedelta(days=5),
    )
    result["mastodon"] = workshop
    if created:
        for local in ["rhea", "sam", "tomas", "uma", "victor", "wen"]:
            _register(workshop, members[local], status=Registration.Status.REGISTERED)
        for position, local in enumerate(["dana", "employee", "chen"], start=1):
            _register(workshop, members[local], status=Registration.Status.WAITLISTED, position=position)

    # 5. Upcoming, two sessions in person, seats left.
    workshop, created = _workshop(
        "Blogging to learn",
        facilitators=[lena, kofi],
        topics=[topics["blogging"]],
        sessions=[(20, 9, 2, in_person, "Room Hopper"), (27, 9, 2, in_person, "Room Hopper")],
        description="Writing in public as a way to learn: start small, publish often.",
        audience="Everyone",
        capacity=15,
        registration_deadline=_at(18, 18),
        status=Workshop.Status.PUBLISHED,
        published_at=timezone.now() - timedelta(days=2),
    )
    result["blogging"] = workshop
    if created:
        for local in ["employee", "ben", "gus", "hana"]:
            _register(workshop, members[local], status=Registration.Status.REGISTERED)

    # 6. A draft.
    workshop, _created = _workshop(
        "Podcasts as a learning source",
        facilitators=[kofi],
        topics=[topics["podcasts"]],
        sessions=[(40, 11, 1, online, "https://meet.example.com/podcasts")],
        description="Finding, following and taking notes on podcasts.",
        audience="Everyone",
        capacity=10,
    )
    result["podcasts"] = workshop
    _follow_ups(members)
    return result


@transaction.atomic
def seed_attendance_time(members: dict[str, Member]) -> None:
    """What marking attendance does: one approved Workshop entry per attended
    session (the minutes recorded for a partial one), through the clock
    service. Runs after the clock's demo (its policies)."""
    admin = User.objects.filter(is_staff=True, is_active=True).order_by("pk").first()
    marks = Attendance.objects.filter(
        registration__member__in=list(members.values()),
        status__in=[Attendance.Status.ATTENDED, Attendance.Status.PARTIAL],
    ).select_related("registration__member__team", "registration__workshop", "session__workshop", "marked_by")
    for mark in marks.order_by("session__starts_at", "pk"):
        time_entry_record_attendance(
            registration=mark.registration, session=mark.session, minutes=mark.minutes, actor=mark.marked_by or admin
        )
