"""Attendance for a room of 30 in one submission; feedback once after the last
session; leaders' averages for 5+ answers; follow-up figures for 5+ groups."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from members.models import LEADERS
from members.services import role_grant
from tests.factories import FeedFactory, MemberFactory, SubscriptionFactory
from tests.pages import parse_page, text_of
from tests.workshops.factories import RegistrationFactory, WorkshopFactory
from workshops.models import Attendance, Feedback, Registration, RegistrationEvent
from workshops.services.attendance import Mark, attendance_mark
from workshops.services.feedback import feedback_averages, feedback_submit, follow_up

pytestmark = pytest.mark.django_db


def test_room_of_30_marked_in_one_submission(facilitator):
    workshop = WorkshopFactory(capacity=30, facilitators=[facilitator], sessions__starts_in=timedelta(hours=-3))
    registrations = [RegistrationFactory(workshop=workshop) for _ in range(30)]
    session = workshop.sessions.get()
    client = Client()
    client.force_login(facilitator)
    url = reverse("workshops:attendance", kwargs={"pk": workshop.pk, "session_pk": session.pk})
    page = client.get(url)
    fields = parse_page(page).forms[-1]["fields"]
    data = {name: "attended" for name in fields if name.startswith("status_")}
    data[f"status_{registrations[0].pk}"] = "partial"
    data[f"minutes_{registrations[0].pk}"] = "45"
    data[f"status_{registrations[1].pk}"] = "no_show"
    data[f"status_{registrations[2].pk}"] = "excused"

    response = client.post(url, data, follow=True)

    assert "Attendance saved (30 changed)." in text_of(response)
    assert page.content.decode().count("<select") == 30
    counts = dict(Registration.objects.filter(workshop=workshop).values_list("status").annotate(n=Count("id")))
    assert counts == {"attended": 27, "partial": 1, "no_show": 1, "excused": 1}
    partial = Attendance.objects.get(registration=registrations[0])
    assert (partial.status, partial.minutes, partial.marked_by) == ("partial", 45, facilitator)
    assert Attendance.objects.get(registration=registrations[3]).minutes == 120
    assert RegistrationEvent.objects.filter(registration__workshop=workshop, session=session).count() == 30


def test_partial_needs_minutes_within_the_session():
    workshop = WorkshopFactory(sessions__starts_in=timedelta(hours=-3))
    registration = RegistrationFactory(workshop=workshop)
    session = workshop.sessions.get()

    with pytest.raises(ValidationError, match="between 1 and 120"):
        attendance_mark(session=session, marks={registration.pk: Mark("partial", 500)}, actor=None)
    assert not Attendance.objects.filter(registration=registration).exists()


def test_series_attendance_gives_overall_status(facilitator):
    workshop = WorkshopFactory(sessions=2, sessions__starts_in=timedelta(days=-20))
    registration = RegistrationFactory(workshop=workshop)
    first, second = workshop.sessions.order_by("starts_at")

    attendance_mark(session=first, marks={registration.pk: Mark("attended")}, actor=facilitator)
    registration.refresh_from_db()
    after_first = registration.status
    attendance_mark(session=second, marks={registration.pk: Mark("attended")}, actor=facilitator)
    registration.refresh_from_db()

    assert (after_first, registration.status) == ("partial", "attended")


def _finished_workshop_with_attendees(n, *, facilitators=()):
    workshop = WorkshopFactory(
        sessions__starts_in=timedelta(days=-100), facilitators=list(facilitators), status="finished"
    )
    return workshop, [RegistrationFactory(workshop=workshop, status="attended") for _ in range(n)]


def test_feedback_once_after_the_last_session():
    workshop, (registration,) = _finished_workshop_with_attendees(1)

    feedback_submit(registration=registration, rating=4, next_step="Add two feeds", comment="Good")

    with pytest.raises(ValidationError, match="already answered"):
        feedback_submit(registration=registration, rating=5)
    assert Feedback.objects.get(registration=registration).rating == 4


def test_feedback_refused_before_the_end_and_for_non_attendees():
    upcoming = WorkshopFactory()
    registered = RegistrationFactory(workshop=upcoming, status="registered")
    past, _ = _finished_workshop_with_attendees(0)
    no_show = RegistrationFactory(workshop=past, status="no_show")

    with pytest.raises(ValidationError, match="Only people who attended"):
        feedback_submit(registration=registered, rating=3)
    with pytest.raises(ValidationError, match="Only people who attended"):
        feedback_submit(registration=no_show, rating=3)
    registered.status = "attended"
    with pytest.raises(ValidationError, match="opens after the last session"):
        feedback_submit(registration=registered, rating=3)


def test_feedback_page_form_then_answer():
    workshop, (registration,) = _finished_workshop_with_attendees(1)
    client = Client()
    client.force_login(registration.member.user)
    url = reverse("workshops:feedback", kwargs={"pk": workshop.pk})

    response = client.post(url, {"rating": "5", "next_step": "Blog weekly", "comment": "Loved it"}, follow=True)

    assert "Thank you for your feedback." in text_of(response)
    assert "Blog weekly" in text_of(response)
    assert "You answered on" in text_of(client.post(url, {"rating": "1"}))
    assert Feedback.objects.get(registration=registration).rating == 5


def test_facilitators_see_answers(facilitator):
    workshop, registrations = _finished_workshop_with_attendees(2, facilitators=[facilitator])
    feedback_submit(registration=registrations[0], rating=5, comment="Very useful")
    feedback_submit(registration=registrations[1], rating=3)
    client = Client()
    client.force_login(facilitator)

    body = text_of(client.get(reverse("workshops:feedback_results", kwargs={"pk": workshop.pk})))

    assert "2 answers, average rating 4.0/5." in body
    assert "Very useful" in body


def test_leaders_see_averages_only_for_5_or_more_answers():
    five, five_regs = _finished_workshop_with_attendees(5)
    four, four_regs = _finished_workshop_with_attendees(4)
    for registration, rating in zip(five_regs, [5, 4, 4, 3, 5], strict=True):
        feedback_submit(registration=registration, rating=rating)
    for registration in four_regs:
        feedback_submit(registration=registration, rating=1)
    leader = MemberFactory().user
    role_grant(user=leader, group_name=LEADERS)
    client = Client()
    client.force_login(leader)

    averages = {row.workshop.pk: (row.answers, row.average) for row in feedback_averages()}
    body = text_of(client.get(reverse("workshops:feedback_summary")))

    assert averages[five.pk] == (5, 4.2)
    assert four.pk not in averages
    assert f"{five.title} 5 4.20" in body
    assert four.title not in body


def test_follow_up_compares_attendees_with_others_only_for_groups_of_5():
    workshop, registrations = _finished_workshop_with_attendees(5)
    end = workshop.ends_at
    for registration in registrations[:3]:
        SubscriptionFactory(member=registration.member, added_at=end + timedelta(days=10))
    SubscriptionFactory(member=registrations[3].member, added_at=end + timedelta(days=60))
    # Not shared: never counted.
    SubscriptionFactory(member=registrations[4].member, added_at=end + timedelta(days=5), is_shared=False)

    figures = {f.days: f for f in follow_up(workshop=workshop)}

    assert (figures[30].attendees, figures[30].attendees_added) == (5, 3)
    assert (figures[90].attendees, figures[90].attendees_added) == (5, 4)
    assert figures[30].others >= 5
    assert figures[30].complete and figures[90].complete


def test_follow_up_hidden_below_5_attendees(facilitator):
    workshop, registrations = _finished_workshop_with_attendees(4, facilitators=[facilitator])
    SubscriptionFactory(member=registrations[0].member, feed=FeedFactory(), added_at=timezone.now())
    client = Client()
    client.force_login(facilitator)

    body = text_of(client.get(reverse("workshops:follow_up", kwargs={"pk": workshop.pk})))

    assert follow_up(workshop=workshop) is None
    assert "once both attendees and other members number at least 5" in body
