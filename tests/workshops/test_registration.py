"""Registration rules, the waitlist, promotion, history and notices."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from members.models import AuditEvent, OutboundEmail
from tests.factories import MemberFactory
from tests.workshops.factories import WorkshopFactory
from workshops.models import Registration, RegistrationEvent, Workshop
from workshops.services.registration import (
    RegistrationRefused,
    registration_approve,
    registration_cancel,
    workshop_register,
)
from workshops.services.workshop import SessionInput, workshop_save

pytestmark = pytest.mark.django_db


def register(workshop, member, **kwargs):
    return workshop_register(workshop_id=workshop.pk, member=member, actor=kwargs.pop("actor", member.user), **kwargs)


def test_register_gives_a_seat_and_a_confirmation_with_calendar(make_members):
    workshop = WorkshopFactory(capacity=2)
    (member,) = make_members(1)

    registration = register(workshop, member)

    assert registration.status == "registered"
    email = OutboundEmail.objects.get(user=member.user)
    assert email.kind == "workshop_confirmation"
    assert email.subject == f"You are registered: {workshop.title}"
    assert email.attachments[0]["filename"] == "workshop.ics"
    assert "BEGIN:VCALENDAR" in email.attachments[0]["content"]


def test_full_workshop_waitlists_in_order(make_members):
    workshop = WorkshopFactory(capacity=2)
    members = make_members(5)

    results = [register(workshop, m) for m in members]

    assert [(r.status, r.waitlist_position) for r in results] == [
        ("registered", None),
        ("registered", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
        ("waitlisted", 3),
    ]
    assert OutboundEmail.objects.filter(kind="workshop_waitlisted").count() == 3


def test_cancellation_promotes_position_one_and_tells_them(make_members):
    workshop = WorkshopFactory(capacity=2)
    a, b, c, d = make_members(4)
    first = register(workshop, a)
    register(workshop, b)
    register(workshop, c)
    register(workshop, d)

    registration_cancel(registration_id=first.pk, actor=a.user)

    statuses = dict(Registration.objects.filter(workshop=workshop).values_list("member_id", "status"))
    positions = dict(Registration.objects.filter(workshop=workshop).values_list("member_id", "waitlist_position"))
    assert statuses == {a.pk: "cancelled", b.pk: "registered", c.pk: "registered", d.pk: "waitlisted"}
    assert positions[d.pk] == 1
    promoted = OutboundEmail.objects.get(kind="workshop_promoted")
    assert promoted.to == c.user.email
    assert promoted.attachments[0]["filename"] == "workshop.ics"


def test_leaving_the_waitlist_closes_the_gap(make_members):
    workshop = WorkshopFactory(capacity=1)
    a, b, c, d = make_members(4)
    for m in (a, b, c, d):
        register(workshop, m)
    middle = Registration.objects.get(workshop=workshop, member=c)

    registration_cancel(registration_id=middle.pk, actor=c.user)

    waiting = list(
        Registration.objects.filter(workshop=workshop, status="waitlisted")
        .order_by("waitlist_position")
        .values_list("member_id", "waitlist_position")
    )
    assert waiting == [(b.pk, 1), (d.pk, 2)]
    assert not OutboundEmail.objects.filter(kind="workshop_promoted").exists()


def test_status_history_is_recorded_with_actor(make_members, facilitator):
    workshop = WorkshopFactory(capacity=1, facilitators=[facilitator])
    a, b = make_members(2)
    first = register(workshop, a)
    second = register(workshop, b)

    registration_cancel(registration_id=first.pk, actor=facilitator)

    history_a = list(RegistrationEvent.objects.filter(registration=first).values_list("status", "actor_id"))
    history_b = list(
        RegistrationEvent.objects.filter(registration=second).values_list("status", "waitlist_position", "note")
    )
    assert history_a == [("registered", a.user.pk), ("cancelled", facilitator.pk)]
    assert history_b == [("waitlisted", 1, ""), ("registered", None, "promoted from the waitlist")]


def test_history_is_append_only(make_members):
    workshop = WorkshopFactory()
    (member,) = make_members(1)
    registration = register(workshop, member)
    event = registration.events.get()

    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        RegistrationEvent.objects.filter(pk=event.pk).update(note="changed")


def test_no_double_registration(make_members):
    workshop = WorkshopFactory(capacity=1)
    a, b = make_members(2)
    register(workshop, a)
    register(workshop, b)

    with pytest.raises(RegistrationRefused, match="Already registered"):
        register(workshop, a)
    with pytest.raises(RegistrationRefused, match="Already on the waitlist, at position 1"):
        register(workshop, b)
    assert Registration.objects.filter(workshop=workshop).count() == 2


def test_register_again_after_cancelling_reuses_the_row(make_members):
    workshop = WorkshopFactory(capacity=3)
    (member,) = make_members(1)
    registration = register(workshop, member)
    registration_cancel(registration_id=registration.pk, actor=member.user)

    again = register(workshop, member)

    assert again.pk == registration.pk
    assert list(again.events.values_list("status", flat=True)) == ["registered", "cancelled", "registered"]


def test_refused_after_deadline(make_members):
    workshop = WorkshopFactory(registration_deadline=timezone.now() - timedelta(minutes=1))
    (member,) = make_members(1)

    with pytest.raises(RegistrationRefused, match="deadline has passed"):
        register(workshop, member)
    assert not Registration.objects.filter(workshop=workshop).exists()


def test_refused_for_cancelled_past_and_draft_workshops(make_members):
    (member,) = make_members(1)
    cancelled = WorkshopFactory(status=Workshop.Status.CANCELLED)
    past = WorkshopFactory(sessions__starts_in=timedelta(days=-3))
    draft = WorkshopFactory(status=Workshop.Status.DRAFT)

    with pytest.raises(RegistrationRefused, match="was cancelled"):
        register(cancelled, member)
    with pytest.raises(RegistrationRefused, match="already taken place"):
        register(past, member)
    with pytest.raises(RegistrationRefused, match="not open for registration"):
        register(draft, member)


def test_cancelling_after_the_first_session_started_is_refused(make_members):
    workshop = WorkshopFactory(sessions=2, sessions__starts_in=timedelta(hours=-1))
    (member,) = make_members(1)
    registration = Registration.objects.create(workshop=workshop, member=member, status="registered")

    with pytest.raises(RegistrationRefused, match="first session has started"):
        registration_cancel(registration_id=registration.pk, actor=member.user)
    registration.refresh_from_db()
    assert registration.status == "registered"


def test_facilitator_registers_on_behalf_and_overbooks_on_purpose(make_members, facilitator):
    workshop = WorkshopFactory(capacity=1, facilitators=[facilitator])
    a, b = make_members(2)
    register(workshop, a)

    overbooked = register(workshop, b, actor=facilitator, overbook=True)

    assert (overbooked.status, overbooked.overbooked, overbooked.registered_by) == ("registered", True, facilitator)
    assert overbooked.events.get().note == "overbooked on purpose by a facilitator"
    assert Registration.objects.filter(workshop=workshop).holding_seats().count() == 2


def test_other_facilitator_cannot_register_on_behalf(make_members, facilitator):
    workshop = WorkshopFactory()
    (member,) = make_members(1)

    with pytest.raises(RegistrationRefused, match="Only this workshop's facilitators"):
        register(workshop, member, actor=facilitator)


def test_member_cannot_overbook(make_members):
    workshop = WorkshopFactory(capacity=0)
    (member,) = make_members(1)

    with pytest.raises(RegistrationRefused, match="Only a facilitator can overbook"):
        register(workshop, member, overbook=True)


def test_approval_required_waits_then_gets_a_seat(make_members, facilitator):
    workshop = WorkshopFactory(capacity=1, approval_required=True, facilitators=[facilitator])
    (member,) = make_members(1)
    requested = register(workshop, member)

    approved = registration_approve(registration_id=requested.pk, actor=facilitator)

    assert requested.status == "requested"
    assert approved.status == "registered"
    assert list(OutboundEmail.objects.filter(user=member.user).order_by("id").values_list("kind", flat=True)) == [
        "workshop_requested",
        "workshop_confirmation",
    ]


def _session_inputs(workshop):
    return [
        SessionInput(
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            time_zone=s.time_zone,
            mode=s.mode,
            room=s.room,
            session_id=s.pk,
        )
        for s in workshop.sessions.all()
    ]


def test_capacity_below_registered_is_refused_unless_overbooking(make_members, facilitator):
    workshop = WorkshopFactory(capacity=3, facilitators=[facilitator])
    for m in make_members(3):
        register(workshop, m)
    workshop.capacity = 2

    with pytest.raises(ValidationError, match="3 people are registered, more than the capacity of 2"):
        workshop_save(workshop=workshop, actor=facilitator, sessions=_session_inputs(workshop))
    assert Workshop.objects.get(pk=workshop.pk).capacity == 3

    workshop_save(workshop=workshop, actor=facilitator, sessions=_session_inputs(workshop), allow_overbooking=True)
    assert Workshop.objects.get(pk=workshop.pk).capacity == 2
    assert AuditEvent.objects.get(action="workshop.overbooked").after == {"capacity": 2, "registered": 3}


def test_raising_capacity_promotes_the_waitlist(make_members, facilitator):
    workshop = WorkshopFactory(capacity=1, facilitators=[facilitator])
    a, b, c = make_members(3)
    for m in (a, b, c):
        register(workshop, m)
    workshop.capacity = 2

    workshop_save(workshop=workshop, actor=facilitator, sessions=_session_inputs(workshop))

    assert dict(Registration.objects.filter(workshop=workshop).values_list("member_id", "waitlist_position")) == {
        a.pk: None,
        b.pk: None,
        c.pk: 1,
    }
    assert OutboundEmail.objects.get(kind="workshop_promoted").to == b.user.email


def test_deactivated_member_is_refused():
    workshop = WorkshopFactory()
    member = MemberFactory()
    member.user.is_active = False
    member.user.save()

    with pytest.raises(RegistrationRefused, match="deactivated"):
        register(workshop, member)
