"""Calendars parsed back with icalendar; notices sent once, even when the
periodic tasks run again; opt-outs respected."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from members.models import OutboundEmail
from tests.factories import MemberFactory
from tests.workshops.factories import RegistrationFactory, WorkshopFactory
from workshops.models import CalendarFeed, Registration, WorkshopSession
from workshops.services.registration import workshop_register
from workshops.services.workshop import workshop_cancel
from workshops.tasks import close_finished_workshops, send_reminders

pytestmark = pytest.mark.django_db

SECRET_LINK = "https://meet.example.com/secret-room"


def events_of(body) -> list:
    cal = Calendar.from_ical(body)
    return list(cal.walk("VEVENT"))


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_workshop_ics_has_sessions_alarm_and_link_for_registered_only():
    workshop = WorkshopFactory(sessions=2, sessions__mode=WorkshopSession.Mode.ONLINE)
    registered = RegistrationFactory(workshop=workshop).member.user
    outsider = MemberFactory().user
    url = reverse("workshops:ics", kwargs={"pk": workshop.pk})

    mine = events_of(_client(registered).get(url).content)
    theirs = events_of(_client(outsider).get(url).content)

    first = workshop.session_list[0]
    assert len(mine) == 2
    assert mine[0]["SUMMARY"] == f"{workshop.title} (1/2)"
    assert mine[0].decoded("DTSTART") == first.starts_at.replace(microsecond=0)
    assert mine[0].decoded("DTEND") == first.ends_at.replace(microsecond=0)
    assert str(mine[0]["LOCATION"]) == SECRET_LINK
    assert [str(a["ACTION"]) for a in mine[0].walk("VALARM")] == ["DISPLAY"]
    assert mine[0].walk("VALARM")[0].decoded("TRIGGER") == -timedelta(minutes=30)
    assert str(theirs[0]["LOCATION"]) == "Online"
    assert SECRET_LINK not in _client(outsider).get(url).content.decode()


def test_cancelling_a_workshop_bumps_sequence_and_emails_method_cancel(facilitator):
    workshop = WorkshopFactory(capacity=1, facilitators=[facilitator])
    registered, waiting = MemberFactory(), MemberFactory()
    workshop_register(workshop_id=workshop.pk, member=registered, actor=registered.user)
    workshop_register(workshop_id=workshop.pk, member=waiting, actor=waiting.user)

    workshop_cancel(workshop_id=workshop.pk, actor=facilitator)

    workshop.refresh_from_db()
    email = OutboundEmail.objects.get(kind="workshop_cancelled", user=registered.user)
    attachment = Calendar.from_ical(email.attachments[0]["content"])
    (event,) = attachment.walk("VEVENT")
    assert workshop.sessions.get().sequence == 1
    assert str(attachment["METHOD"]) == "CANCEL"
    assert (str(event["STATUS"]), event["SEQUENCE"]) == ("CANCELLED", 1)
    assert email.attachments[0]["mimetype"] == "application/ics"
    assert email.alternatives == [
        {"content": email.attachments[0]["content"], "mimetype": "text/calendar; method=CANCEL"}
    ]
    waiting_email = OutboundEmail.objects.get(kind="workshop_cancelled", user=waiting.user)
    assert waiting_email.attachments == []
    body = _client(registered.user).get(reverse("workshops:ics", kwargs={"pk": workshop.pk})).content
    (event,) = events_of(body)
    assert (str(event["STATUS"]), event["SEQUENCE"]) == ("CANCELLED", 1)


def test_member_feed_lists_registrations_and_dies_on_reset_and_deactivation():
    member = MemberFactory()
    registered_in = WorkshopFactory(sessions__mode=WorkshopSession.Mode.ONLINE)
    waiting_in = WorkshopFactory()
    RegistrationFactory(workshop=registered_in, member=member)
    RegistrationFactory(workshop=waiting_in, member=member, status="waitlisted", waitlist_position=1)
    client = _client(member.user)
    client.post(reverse("workshops:calendar_reset"))
    feed = CalendarFeed.objects.get(member=member)
    url = reverse("workshops:calendar_feed", kwargs={"token": feed.token})

    events = events_of(Client().get(url).content)

    assert [str(e["SUMMARY"]) for e in events] == [registered_in.title]
    assert str(events[0]["LOCATION"]) == SECRET_LINK
    client.post(reverse("workshops:calendar_reset"))
    assert Client().get(url).status_code == 404
    feed.refresh_from_db()
    new_url = reverse("workshops:calendar_feed", kwargs={"token": feed.token})
    assert Client().get(new_url).status_code == 200
    member.user.is_active = False
    member.user.save()
    assert Client().get(new_url).status_code == 404


def test_reminder_sent_once_when_the_task_runs_again():
    soon = WorkshopFactory(sessions__starts_in=timedelta(hours=5))
    later = WorkshopFactory(sessions__starts_in=timedelta(days=5))
    opted_out = MemberFactory(email_opt_outs=["workshop_reminders"])
    registrations = [RegistrationFactory(workshop=soon) for _ in range(3)]
    RegistrationFactory(workshop=soon, member=opted_out)
    RegistrationFactory(workshop=soon, status="waitlisted", waitlist_position=1)
    RegistrationFactory(workshop=later)

    first = send_reminders.apply().get()
    again = send_reminders.apply().get()
    Registration.objects.filter(workshop=soon).update(reminded_at=None)  # a lost update: keys still hold
    third = send_reminders.apply().get()

    reminders = OutboundEmail.objects.filter(kind="workshop_reminder")
    assert (first, again, third) == (3, 0, 3)
    assert sorted(reminders.values_list("user_id", flat=True)) == sorted(r.member.user_id for r in registrations)
    assert set(reminders.values_list("idempotency_key", flat=True)) == {
        f"workshops:reminder:{r.pk}" for r in registrations
    }
    assert reminders.first().attachments[0]["filename"] == "workshop.ics"


def test_feedback_request_once_and_workshop_finished():
    workshop = WorkshopFactory(sessions__starts_in=timedelta(days=-2))
    attendees = [RegistrationFactory(workshop=workshop, status="attended") for _ in range(2)]
    RegistrationFactory(
        workshop=workshop, status="attended", member=MemberFactory(email_opt_outs=["workshop_feedback"])
    )
    RegistrationFactory(workshop=workshop, status="no_show")

    close_finished_workshops.apply()
    close_finished_workshops.apply()

    workshop.refresh_from_db()
    requests = OutboundEmail.objects.filter(kind="workshop_feedback_request")
    assert workshop.status == "finished"
    assert sorted(requests.values_list("user_id", flat=True)) == sorted(r.member.user_id for r in attendees)
    assert "/feedback/" in requests.first().body_text


def test_confirmation_key_is_deterministic_per_event():
    workshop = WorkshopFactory()
    member = MemberFactory()

    registration = workshop_register(workshop_id=workshop.pk, member=member, actor=member.user)

    event = registration.events.get()
    assert OutboundEmail.objects.get(user=member.user).idempotency_key == f"workshops:confirmation:{event.pk}"
