"""Calendar invitations (iTIP over email): every message parsed back with
icalendar, its method, UID and SEQUENCE checked for each case, the email's
MIME structure as sent, and the exact outbox rows."""

from datetime import datetime, time, timedelta
from email import message_from_bytes, policy
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from members.models import FACILITATORS, OutboundEmail
from members.outbox import email_send
from members.services import role_grant
from members.tasks import send_pending_emails
from tests.factories import MemberFactory
from tests.pages import client_for
from tests.workshops.factories import RegistrationFactory, WorkshopFactory
from workshops.lifecycle import workshops_export
from workshops.models import CalendarInvitation, Registration, Workshop, WorkshopSession
from workshops.services.invitations import invitations_update
from workshops.services.registration import (
    registration_approve,
    registration_cancel,
    workshop_lock,
    workshop_register,
)
from workshops.services.workshop import SessionInput, workshop_cancel, workshop_save

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
HOST = urlsplit(settings.SITE_URL).hostname
TITLE = "Reading in public"


def paris(days: int, hour: int) -> datetime:
    """`hour` o'clock in Paris, `days` from today."""
    day = (timezone.now() + timedelta(days=days)).astimezone(PARIS).date()
    return datetime.combine(day, time(hour), tzinfo=PARIS)


@pytest.fixture
def lead(db):
    member = MemberFactory(display_name="Fay Facilitator", user__email="fay@example.org")
    role_grant(user=member.user, group_name=FACILITATORS)
    return member.user


def make_workshop(lead, *, sessions: int = 1, days: int = 20, **kwargs) -> Workshop:
    """Published, `sessions` weekly sessions from 14:00 to 16:00 Paris time in Room 1."""
    workshop = WorkshopFactory(sessions=0, facilitators=[lead], title=TITLE, **kwargs)
    for index in range(sessions):
        start = paris(days + 7 * index, 14)
        WorkshopSession.objects.create(
            workshop=workshop,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            time_zone="Europe/Paris",
            room="Room 1",
        )
    return Workshop.objects.get(pk=workshop.pk)


def register(workshop: Workshop, member) -> Registration:
    return workshop_register(workshop_id=workshop.pk, member=member, actor=member.user)


def edit(workshop: Workshop, actor, changes=None, *, drop=(), add=(), **fields) -> Workshop:
    """Save the workshop as the edit page does: every session posted again,
    `changes` {index: {field: value}} applied, `drop` indexes left out,
    `add` SessionInputs appended, `fields` set on the workshop."""
    fresh = Workshop.objects.get(pk=workshop.pk)
    for name, value in fields.items():
        setattr(fresh, name, value)
    inputs = []
    for index, s in enumerate(fresh.session_list):
        if index in drop:
            continue
        data = {
            "starts_at": s.starts_at,
            "ends_at": s.ends_at,
            "time_zone": s.time_zone,
            "mode": s.mode,
            "room": s.room,
            "online_url": s.online_url,
            "session_id": s.pk,
        }
        data.update((changes or {}).get(index, {}))
        inputs.append(SessionInput(**data))
    return workshop_save(workshop=fresh, actor=actor, sessions=[*inputs, *add])


def invitation_of(email: OutboundEmail):
    """The calendar an outbox row carries (alternative and attachment are
    the same text), parsed: (calendar, its one event)."""
    (alternative,) = email.alternatives
    (attachment,) = email.attachments
    cal = Calendar.from_ical(alternative["content"])
    method = str(cal["METHOD"])
    assert alternative["mimetype"] == f"text/calendar; method={method}"
    assert attachment == {
        "filename": "cancel.ics" if method == "CANCEL" else "workshop.ics",
        "content": alternative["content"],
        "mimetype": "application/ics",
    }
    (event,) = cal.walk("VEVENT")
    return cal, event


def rows(user) -> list[tuple]:
    """Each outbox row to `user`, oldest first: (kind, key, METHOD, SEQUENCE, UID)."""
    result = []
    for email in OutboundEmail.objects.filter(user=user).order_by("pk"):
        if email.alternatives:
            cal, event = invitation_of(email)
            result.append((email.kind, email.idempotency_key, str(cal["METHOD"]), event["SEQUENCE"], str(event["UID"])))
        else:
            assert all(a["mimetype"] == "text/calendar" for a in email.attachments)
            result.append((email.kind, email.idempotency_key, None, None, None))
    return result


def uid(session: WorkshopSession) -> str:
    return f"workshop-{session.workshop_id}-session-{session.pk}@{HOST}"


def test_registering_sends_a_request_that_calendars_add(lead):
    workshop = make_workshop(lead)
    (session,) = workshop.session_list
    member = MemberFactory(display_name="Ana Lima", user__email="ana@example.org")
    before = timezone.now().replace(microsecond=0)

    registration = register(workshop, member)

    (email,) = OutboundEmail.objects.filter(user=member.user)
    assert (email.kind, email.idempotency_key, email.subject, email.to) == (
        "workshop_confirmation",
        f"workshops:confirmation:{registration.events.get().pk}",
        f"You are registered: {TITLE}",
        "ana@example.org",
    )
    assert "This invitation adds the session to your calendar. To cancel, open:" in email.body_text
    cal, event = invitation_of(email)
    assert str(cal["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == uid(session)
    assert (event["SEQUENCE"], str(event["STATUS"]), str(event["SUMMARY"])) == (0, "CONFIRMED", TITLE)
    assert before <= event.decoded("DTSTAMP") <= timezone.now()
    assert str(event["ORGANIZER"]) == "mailto:fay@example.org"
    assert dict(event["ORGANIZER"].params) == {"CN": "Fay Facilitator", "SENT-BY": "mailto:plnorg@localhost"}
    assert str(event["ATTENDEE"]) == "mailto:ana@example.org"
    assert dict(event["ATTENDEE"].params) == {
        "CN": "Ana Lima",
        "CUTYPE": "INDIVIDUAL",
        "ROLE": "REQ-PARTICIPANT",
        "PARTSTAT": "NEEDS-ACTION",
        "RSVP": "FALSE",
    }
    page = f"{settings.SITE_URL}/workshops/{workshop.pk}/"
    assert (str(event["LOCATION"]), str(event["URL"]), str(event["DESCRIPTION"])) == ("Room 1", page, page)
    # In the session's own zone, with that zone's rules beside it.
    assert event["DTSTART"].params["TZID"] == event["DTEND"].params["TZID"] == "Europe/Paris"
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert (start, end) == (session.starts_at, session.ends_at)
    assert (start.tzinfo.key, start.hour, start.minute, end.hour) == ("Europe/Paris", 14, 0, 16)
    (vtimezone,) = cal.walk("VTIMEZONE")
    assert str(vtimezone["TZID"]) == "Europe/Paris"
    assert {o.name for o in vtimezone.subcomponents} == {"STANDARD", "DAYLIGHT"}
    rules = vtimezone.to_tz(lookup_tzid=False)  # from the VTIMEZONE's own text, not the name
    wall = start.replace(tzinfo=None)
    assert wall.replace(tzinfo=rules).utcoffset() == wall.replace(tzinfo=PARIS).utcoffset()
    summer = wall + timedelta(days=182)
    assert summer.replace(tzinfo=rules).utcoffset() == summer.replace(tzinfo=PARIS).utcoffset()


def test_the_invitation_email_has_the_mime_structure_calendars_act_on(lead):
    workshop = make_workshop(lead)
    member = MemberFactory()
    register(workshop, member)
    email = OutboundEmail.objects.get(user=member.user)

    assert email_send(email_id=email.pk) is True

    (sent,) = mail.outbox
    message = message_from_bytes(sent.message().as_bytes(), policy=policy.default)
    assert [p.get_content_type() for p in message.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/calendar",
        "application/ics",
    ]
    _, _, text, calendar, attachment = message.walk()
    assert calendar["Content-Type"].params == {"method": "REQUEST", "charset": "utf-8"}
    assert calendar.get_content_disposition() is None  # a version of the body, not a file
    assert (
        Calendar.from_ical(calendar.get_content()).to_ical()
        == Calendar.from_ical(email.alternatives[0]["content"]).to_ical()
    )
    assert (attachment.get_content_disposition(), attachment.get_filename()) == ("attachment", "workshop.ics")
    assert attachment.get_content() == email.attachments[0]["content"].encode("utf-8")
    assert text.get_content() == email.body_text


def test_each_change_raises_the_sequence_and_the_cancel_ends_it(lead):
    workshop = make_workshop(lead)
    (session,) = workshop.session_list
    member = MemberFactory()
    registration = register(workshop, member)
    moved = paris(21, 10)

    edit(workshop, lead, {0: {"starts_at": moved, "ends_at": moved + timedelta(hours=2)}})
    edit(workshop, lead, {0: {"room": "Library, 2nd floor"}})
    registration_cancel(registration_id=registration.pk, actor=member.user)

    emails = list(OutboundEmail.objects.filter(user=member.user).order_by("pk"))
    key = f"workshops:calendar:{registration.pk}:{session.pk}"
    assert rows(member.user) == [
        (
            "workshop_confirmation",
            f"workshops:confirmation:{registration.events.first().pk}",
            "REQUEST",
            0,
            uid(session),
        ),
        ("workshop_update", f"{key}:1", "REQUEST", 1, uid(session)),
        ("workshop_update", f"{key}:2", "REQUEST", 2, uid(session)),
        ("workshop_registration_cancelled", f"{key}:3", "CANCEL", 3, uid(session)),
    ]
    assert [e.subject for e in emails] == [
        f"You are registered: {TITLE}",
        f"Changed: {TITLE}",
        f"Changed: {TITLE}",
        f"Your place is cancelled: {TITLE}",
    ]
    events = [invitation_of(e)[1] for e in emails]
    assert [(e.decoded("DTSTART"), str(e["LOCATION"]), str(e["STATUS"])) for e in events] == [
        (session.starts_at, "Room 1", "CONFIRMED"),
        (moved, "Room 1", "CONFIRMED"),
        (moved, "Library, 2nd floor", "CONFIRMED"),
        (moved, "Library, 2nd floor", "CANCELLED"),
    ]
    assert events[1].decoded("DTSTART").hour == 10
    assert "has changed. This update moves the session in your calendar; it is now:" in emails[1].body_text
    assert "Your place in" in emails[3].body_text and "removes the session from your calendar" in emails[3].body_text
    session.refresh_from_db()
    record = CalendarInvitation.objects.get()
    assert (session.sequence, record.sequence, record.method, record.uid) == (3, 3, "CANCEL", uid(session))


def test_a_save_that_changes_nothing_sends_nothing(lead):
    workshop = make_workshop(lead)
    member = MemberFactory()
    register(workshop, member)

    edit(workshop, lead)
    edit(workshop, lead, capacity=30, description="New notes for the room.")

    assert [r[0] for r in rows(member.user)] == ["workshop_confirmation"]
    assert WorkshopSession.objects.get(workshop=workshop).sequence == 0


def test_a_double_submit_and_a_second_sync_send_the_update_once(lead):
    workshop = make_workshop(lead)
    (session,) = workshop.session_list
    member = MemberFactory()
    registration = register(workshop, member)

    edit(workshop, lead, {0: {"room": "Room 9"}})
    edit(workshop, lead, {0: {"room": "Room 9"}})  # the same form posted twice
    with transaction.atomic():
        again = invitations_update(workshop=workshop_lock(workshop_id=workshop.pk))

    assert again == 0
    assert [(r[0], r[1]) for r in rows(member.user)] == [
        ("workshop_confirmation", f"workshops:confirmation:{registration.events.get().pk}"),
        ("workshop_update", f"workshops:calendar:{registration.pk}:{session.pk}:1"),
    ]
    update = OutboundEmail.objects.get(kind="workshop_update")
    assert (email_send(email_id=update.pk), email_send(email_id=update.pk)) == (True, False)
    assert [m.subject for m in mail.outbox] == [f"Changed: {TITLE}"]


def test_a_change_rolled_back_leaves_no_email_no_sequence_and_no_record(lead):
    workshop = make_workshop(lead)
    (session,) = workshop.session_list
    member = MemberFactory()
    register(workshop, member)
    emails_before = list(OutboundEmail.objects.values_list("pk", flat=True))

    with pytest.raises(RuntimeError), transaction.atomic():
        edit(workshop, lead, {0: {"room": "Room 9"}})
        raise RuntimeError("the request failed after the save")

    assert list(OutboundEmail.objects.values_list("pk", flat=True)) == emails_before
    session.refresh_from_db()
    record = CalendarInvitation.objects.get()
    assert (session.room, session.sequence, record.sequence) == ("Room 1", 0, 0)


def test_waitlisted_members_get_no_request_until_promoted_and_only_the_promoted_one_then(lead):
    workshop = make_workshop(lead, capacity=1)
    (session,) = workshop.session_list
    seated, next_in_line, third = MemberFactory(), MemberFactory(), MemberFactory()
    first = register(workshop, seated)
    waiting = register(workshop, next_in_line)
    register(workshop, third)
    assert [r[2] for r in rows(next_in_line.user)] == [None]  # the waitlist notice carries no calendar

    registration_cancel(registration_id=first.pk, actor=seated.user)

    promoted_event = waiting.events.order_by("pk").last()
    assert promoted_event.note == "promoted from the waitlist"
    assert [r[0:4] for r in rows(seated.user)] == [
        ("workshop_confirmation", f"workshops:confirmation:{first.events.first().pk}", "REQUEST", 0),
        ("workshop_registration_cancelled", f"workshops:calendar:{first.pk}:{session.pk}:1", "CANCEL", 1),
    ]
    # The session's event is at SEQUENCE 1 by now; the newcomer's copy starts there.
    assert [r[0:4] for r in rows(next_in_line.user)] == [
        ("workshop_waitlisted", f"workshops:waitlisted:{waiting.events.first().pk}", None, None),
        ("workshop_promoted", f"workshops:promoted:{promoted_event.pk}", "REQUEST", 1),
    ]
    assert [r[0] for r in rows(third.user)] == ["workshop_waitlisted"]
    promoted = OutboundEmail.objects.get(kind="workshop_promoted")
    assert str(invitation_of(promoted)[1]["ATTENDEE"]) == f"mailto:{next_in_line.user.email}"
    assert "This invitation adds the session to your calendar." in promoted.body_text


def test_a_request_approved_by_a_facilitator_sends_the_request_then(lead):
    workshop = make_workshop(lead, approval_required=True)
    member = MemberFactory()
    registration = register(workshop, member)
    assert [r[0:3] for r in rows(member.user)] == [
        ("workshop_requested", f"workshops:requested:{registration.events.get().pk}", None)
    ]

    registration_approve(registration_id=registration.pk, actor=lead)

    approved = registration.events.order_by("pk").last()
    assert [r[0:4] for r in rows(member.user)][1:] == [
        ("workshop_confirmation", f"workshops:confirmation:{approved.pk}", "REQUEST", 0)
    ]


def test_a_facilitator_cancelling_a_session_sends_cancel_to_every_registered_member(lead):
    workshop = make_workshop(lead, sessions=2, capacity=3)
    first, second = workshop.session_list
    members = [MemberFactory() for _ in range(3)]
    registrations = [register(workshop, m) for m in members]
    waiting = MemberFactory()
    register(workshop, waiting)
    before = {m.pk: len(rows(m.user)) for m in [*members, waiting]}

    edit(workshop, lead, drop={1})

    for member, registration in zip(members, registrations, strict=True):
        new = rows(member.user)[before[member.pk] :]
        assert new == [
            (
                "workshop_session_cancelled",
                f"workshops:calendar:{registration.pk}:{second.pk}:1",
                "CANCEL",
                1,
                uid(second),
            )
        ]
        email = OutboundEmail.objects.get(user=member.user, kind="workshop_session_cancelled")
        assert email.subject == f"Cancelled: {TITLE} (2/2)"
        event = invitation_of(email)[1]
        assert (str(event["STATUS"]), event.decoded("DTSTART")) == ("CANCELLED", second.starts_at)
        assert str(event["ATTENDEE"]) == f"mailto:{member.user.email}"
    assert len(rows(waiting.user)) == before[waiting.pk]
    assert list(workshop.sessions.values_list("pk", "sequence")) == [(first.pk, 0)]
    assert sorted(CalendarInvitation.objects.values_list("session_id", "method")) == [(first.pk, "REQUEST")] * 3


def test_a_facilitator_cancelling_the_workshop_sends_cancel_for_each_session_to_every_registered_member(lead):
    workshop = make_workshop(lead, sessions=2, capacity=3)
    first, second = workshop.session_list
    members = [MemberFactory() for _ in range(3)]
    registrations = [register(workshop, m) for m in members]
    waiting = MemberFactory()
    waiting_registration = register(workshop, waiting)

    workshop_cancel(workshop_id=workshop.pk, actor=lead)

    for member, registration in zip(members, registrations, strict=True):
        assert rows(member.user) == [
            (
                "workshop_confirmation",
                f"workshops:confirmation:{registration.events.first().pk}",
                "REQUEST",
                0,
                uid(first),
            ),
            ("workshop_invitation", f"workshops:calendar:{registration.pk}:{second.pk}:0", "REQUEST", 0, uid(second)),
            ("workshop_cancelled", f"workshops:cancelled:{workshop.pk}:{registration.pk}", "CANCEL", 1, uid(first)),
            ("workshop_cancelled", f"workshops:calendar:{registration.pk}:{second.pk}:1", "CANCEL", 1, uid(second)),
        ]
        notice = OutboundEmail.objects.get(idempotency_key=f"workshops:cancelled:{workshop.pk}:{registration.pk}")
        assert notice.subject == f"Cancelled: {TITLE}"
        assert "the other one is removed by the email that follows" in notice.body_text
        assert {
            str(invitation_of(e)[1]["STATUS"])
            for e in OutboundEmail.objects.filter(user=member.user).order_by("-pk")[:2]
        } == {"CANCELLED"}
    assert rows(waiting.user) == [
        ("workshop_waitlisted", f"workshops:waitlisted:{waiting_registration.events.get().pk}", None, None, None),
        ("workshop_cancelled", f"workshops:cancelled:{workshop.pk}:{waiting_registration.pk}", None, None, None),
    ]
    waiting_notice = OutboundEmail.objects.get(user=waiting.user, kind="workshop_cancelled")
    assert (waiting_notice.attachments, "calendar" in waiting_notice.body_text) == ([], False)
    assert list(workshop.sessions.order_by("starts_at").values_list("sequence", flat=True)) == [1, 1]


def test_registering_for_a_series_sends_one_invitation_per_session(lead):
    workshop = make_workshop(lead, sessions=3)
    sessions = workshop.session_list
    member = MemberFactory()

    registration = register(workshop, member)

    assert rows(member.user) == [
        (
            "workshop_confirmation",
            f"workshops:confirmation:{registration.events.get().pk}",
            "REQUEST",
            0,
            uid(sessions[0]),
        ),
        (
            "workshop_invitation",
            f"workshops:calendar:{registration.pk}:{sessions[1].pk}:0",
            "REQUEST",
            0,
            uid(sessions[1]),
        ),
        (
            "workshop_invitation",
            f"workshops:calendar:{registration.pk}:{sessions[2].pk}:0",
            "REQUEST",
            0,
            uid(sessions[2]),
        ),
    ]
    emails = list(OutboundEmail.objects.filter(user=member.user).order_by("pk"))
    assert [e.subject for e in emails] == [
        f"You are registered: {TITLE}",
        f"Invitation: {TITLE} (2/3)",
        f"Invitation: {TITLE} (3/3)",
    ]
    assert "the 2 others follow, each in its own invitation" in emails[0].body_text
    assert [invitation_of(e)[1].decoded("DTSTART") for e in emails] == [s.starts_at for s in sessions]


def test_a_session_added_later_is_sent_as_its_own_invitation(lead):
    workshop = make_workshop(lead)
    (first,) = workshop.session_list
    member = MemberFactory()
    registration = register(workshop, member)
    start = paris(40, 9)

    edit(
        workshop,
        lead,
        add=[
            SessionInput(
                starts_at=start, ends_at=start + timedelta(hours=1), time_zone="Europe/Paris", mode="in_person"
            )
        ],
    )

    added = WorkshopSession.objects.exclude(pk=first.pk).get(workshop=workshop)
    assert rows(member.user)[1:] == [
        ("workshop_invitation", f"workshops:calendar:{registration.pk}:{added.pk}:0", "REQUEST", 0, uid(added))
    ]
    assert OutboundEmail.objects.get(kind="workshop_invitation").subject == f"Invitation: {TITLE} (2/2)"


def test_online_sessions_carry_the_link_and_a_new_link_is_a_change(lead):
    workshop = make_workshop(lead)
    WorkshopSession.objects.filter(workshop=workshop).update(
        mode="online", room="", online_url="https://meet.example.com/room-a"
    )
    workshop = Workshop.objects.get(pk=workshop.pk)
    member = MemberFactory()
    register(workshop, member)

    edit(workshop, lead, {0: {"online_url": "https://meet.example.com/room-b"}})

    locations = [
        str(invitation_of(e)[1]["LOCATION"]) for e in OutboundEmail.objects.filter(user=member.user).order_by("pk")
    ]
    assert locations == ["https://meet.example.com/room-a", "https://meet.example.com/room-b"]


def test_ended_sessions_are_left_alone(lead):
    workshop = make_workshop(lead, sessions=0)
    past = WorkshopSession.objects.create(
        workshop=workshop, starts_at=paris(-2, 14), ends_at=paris(-2, 16), time_zone="Europe/Paris", room="Room 1"
    )
    coming = WorkshopSession.objects.create(
        workshop=workshop, starts_at=paris(5, 14), ends_at=paris(5, 16), time_zone="Europe/Paris", room="Room 1"
    )
    registration = RegistrationFactory(workshop=workshop)  # registered before invitations existed

    edit(workshop, lead, {0: {"room": "Room 2"}, 1: {"room": "Room 2"}})

    assert rows(registration.member.user) == [
        ("workshop_invitation", f"workshops:calendar:{registration.pk}:{coming.pk}:1", "REQUEST", 1, uid(coming))
    ]
    assert list(CalendarInvitation.objects.values_list("session_id", flat=True)) == [coming.pk]
    past.refresh_from_db()
    assert past.room == "Room 2"


def test_members_who_turned_invitations_off_get_a_file_and_keep_their_calendar_right(lead):
    workshop = make_workshop(lead)
    (session,) = workshop.session_list
    without = MemberFactory(calendar_invitations=False)
    changed_mind = MemberFactory()
    plain = register(workshop, without)
    invited = register(workshop, changed_mind)
    changed_mind.calendar_invitations = False
    changed_mind.save()

    edit(workshop, lead, {0: {"room": "Room 9"}})
    registration_cancel(registration_id=plain.pk, actor=without.user)
    registration_cancel(registration_id=invited.pk, actor=changed_mind.user)

    (confirmation,) = OutboundEmail.objects.filter(user=without.user)
    assert (confirmation.kind, confirmation.alternatives) == ("workshop_confirmation", [])
    assert [(a["filename"], a["mimetype"]) for a in confirmation.attachments] == [("workshop.ics", "text/calendar")]
    assert str(Calendar.from_ical(confirmation.attachments[0]["content"])["METHOD"]) == "PUBLISH"
    assert "The attached calendar file adds the sessions to your calendar." in confirmation.body_text
    # Already in the calendar: still moved, then removed.
    assert [r[0:4] for r in rows(changed_mind.user)] == [
        ("workshop_confirmation", f"workshops:confirmation:{invited.events.first().pk}", "REQUEST", 0),
        ("workshop_update", f"workshops:calendar:{invited.pk}:{session.pk}:1", "REQUEST", 1),
        ("workshop_registration_cancelled", f"workshops:calendar:{invited.pk}:{session.pk}:2", "CANCEL", 2),
    ]


def test_with_the_broker_down_invitations_wait_and_go_out_once(lead, broker_down, django_capture_on_commit_callbacks):
    workshop = make_workshop(lead)
    member = MemberFactory()

    with django_capture_on_commit_callbacks(execute=True):
        register(workshop, member)
    with django_capture_on_commit_callbacks(execute=True):
        edit(workshop, lead, {0: {"room": "Room 9"}})

    assert list(OutboundEmail.objects.filter(user=member.user).values_list("status", flat=True)) == ["pending"] * 2
    assert mail.outbox == []
    assert (send_pending_emails(), send_pending_emails()) == (2, 0)
    sent = []
    for message in mail.outbox:
        ((content, mimetype),) = message.alternatives
        event = Calendar.from_ical(content).walk("VEVENT")[0]
        sent.append((message.subject, mimetype, event["SEQUENCE"], str(event["LOCATION"])))
    assert sorted(sent) == [
        (f"Changed: {TITLE}", "text/calendar; method=REQUEST", 1, "Room 9"),
        (f"You are registered: {TITLE}", "text/calendar; method=REQUEST", 0, "Room 1"),
    ]


def test_the_workshop_download_shows_the_invitations_event(lead):
    workshop = make_workshop(lead)
    (session,) = workshop.session_list
    member = MemberFactory()
    register(workshop, member)
    edit(workshop, lead, {0: {"room": "Room 9"}})

    body = client_for(member).get(reverse("workshops:ics", kwargs={"pk": workshop.pk})).content

    cal = Calendar.from_ical(body)
    (event,) = cal.walk("VEVENT")
    assert (str(cal["METHOD"]), str(event["UID"]), event["SEQUENCE"], str(event["LOCATION"])) == (
        "PUBLISH",
        uid(session),
        1,
        "Room 9",
    )
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert [str(t["TZID"]) for t in cal.walk("VTIMEZONE")] == ["Europe/Paris"]


def test_the_data_export_lists_what_calendars_were_sent_and_deletion_removes_it(lead):
    from workshops.lifecycle import workshops_delete

    workshop = make_workshop(lead)
    (session,) = workshop.session_list
    member = MemberFactory()
    register(workshop, member)
    record = CalendarInvitation.objects.get()

    exported = workshops_export(member=member)["calendar_invitations"]

    assert exported == [
        {
            "workshop": TITLE,
            "session_start": session.starts_at.isoformat(),
            "uid": uid(session),
            "sequence": 0,
            "last_sent": "REQUEST",
            "sent_at": record.sent_at.isoformat(),
        }
    ]
    workshops_delete(member=member)
    assert CalendarInvitation.objects.count() == 0
    assert OutboundEmail.objects.filter(kind="workshop_registration_cancelled", to=member.user.email).count() == 1


@pytest.mark.timeout(120)
@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_take_turns_and_never_share_a_sequence(lead):
    import threading

    from django.db import connection

    workshop = make_workshop(lead)
    (session,) = workshop.session_list
    member = MemberFactory()
    registration = register(workshop, member)
    barrier = threading.Barrier(2)
    errors = []

    def move_to(room: str):
        try:
            barrier.wait(timeout=30)
            edit(workshop, lead, {0: {"room": room}})
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=move_to, args=(room,)) for room in ("Room A", "Room B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    session.refresh_from_db()
    updates = list(OutboundEmail.objects.filter(kind="workshop_update").order_by("pk"))
    assert [u.idempotency_key for u in updates] == [
        f"workshops:calendar:{registration.pk}:{session.pk}:1",
        f"workshops:calendar:{registration.pk}:{session.pk}:2",
    ]
    # The last update tells the calendar what the database holds.
    assert str(invitation_of(updates[-1])[1]["LOCATION"]) == session.room
    assert (session.sequence, CalendarInvitation.objects.get().sequence) == (2, 2)
