"""Demo workshops for `seed_demo`: past ones with attendance and feedback,
upcoming ones with registrations and a waitlist, a draft, and a small library.
Idempotent: a workshop whose title exists is left as it is."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from members.models import Member

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
                rating, next_step, comment = FEEDBACK[answered]
                Feedback.objects.create(registration=registration, rating=rating, next_step=next_step, comment=comment)
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
                rating, next_step, comment = FEEDBACK[index]
                Feedback.objects.create(registration=registration, rating=rating, next_step=next_step, comment=comment)

    # 3. Upcoming, online, full with a waitlist.
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

    # 4. Upcoming, two sessions in person, seats left.
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

    # 5. A draft.
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
    return result
