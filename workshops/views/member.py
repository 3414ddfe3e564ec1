"""Member-facing workshop pages: list, detail, registering, my workshops,
calendars, feedback, the resource library and file downloads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, F, OuterRef, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from core.formatting import DateFormatter
from core.urls import reverse_for_ids

from ..calendar import member_feed_ics, workshop_ics
from ..forms import FeedbackForm, ResourceSearchForm, WorkshopFilterForm
from ..models import CalendarFeed, Feedback, Registration, Resource, Workshop, WorkshopMaterial, WorkshopSession
from ..models.workshop import SEAT_STATUSES, new_calendar_token
from ..services.feedback import feedback_averages, feedback_submit
from ..services.registration import RegistrationRefused, can_manage, registration_cancel, workshop_register
from ..uploads import file_response


def _my_registrations(member, workshop_ids: list[int]) -> dict[int, Registration]:
    return {r.workshop_id: r for r in Registration.objects.filter(member=member, workshop__in=workshop_ids)}


@dataclass(slots=True)
class ListedWorkshop:
    """A workshop as the list shows it, read as columns: the list's 50
    Workshop instances and their prefetched sessions and topics cost more
    than its queries."""

    pk: int
    title: str
    capacity: int
    first_start: datetime | None
    seats_taken: int
    sessions: int = 0
    is_online: bool = False
    topics: list[str] = field(default_factory=list)

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)


def _listed(workshops) -> list[ListedWorkshop]:
    """The workshops' rows, their sessions' count and mode, and their topics
    (by name, as Topic orders them): three queries for any number."""
    rows = {
        values[0]: ListedWorkshop(*values)
        for values in workshops.order_by("first_start", "pk").values_list(
            "pk", "title", "capacity", "first_start", "seats_taken"
        )
    }
    for workshop_id, mode in WorkshopSession.objects.filter(workshop_id__in=list(rows)).values_list(
        "workshop_id", "mode"
    ):
        row = rows[workshop_id]
        row.sessions += 1
        row.is_online = row.is_online or mode == WorkshopSession.Mode.ONLINE
    tagged = Workshop.topics.through.objects.filter(workshop_id__in=list(rows)).order_by("topic__name", "topic_id")
    for workshop_id, name in tagged.values_list("workshop_id", "topic__name"):
        rows[workshop_id].topics.append(name)
    return list(rows.values())


def workshop_list(request):
    """Upcoming published workshops, with filters."""
    form = WorkshopFilterForm(request.GET or None)
    workshops = Workshop.objects.upcoming().with_seats()
    if form.is_valid():
        if form.cleaned_data["topic"]:
            workshops = workshops.filter(topics=form.cleaned_data["topic"])
        if form.cleaned_data["mode"]:
            workshops = workshops.filter(
                Exists(WorkshopSession.objects.filter(workshop=OuterRef("pk"), mode=form.cleaned_data["mode"]))
            )
        if form.cleaned_data["seats_left"]:
            workshops = workshops.filter(seats_taken__lt=F("capacity"))
    listed = _listed(workshops)
    mine = _my_registrations(request.member, [w.pk for w in listed])
    rows = [(w, mine.get(w.pk)) for w in listed]
    return render(request, "workshops/list.html", {"rows": rows, "rows_html": _workshop_rows_html(rows), "form": form})


WORKSHOP_ROW = (
    "\n  <li>\n"
    '    <h2 class="workshop-title"><a href="{url}">{title}</a> {status}</h2>\n'
    '    <p class="entry-meta">\n'
    "      {start} · {mode}\n"
    "      · {sessions}\n"
    "      · {seats}\n"
    "      {topics}\n"
    "    </p>\n"
    "  </li>\n  "
)


def _workshop_rows_html(rows: list[tuple[ListedWorkshop, Registration | None]]) -> SafeString:
    """The list's rows, built here rather than in the template (whose loop
    took most of the page's time), in the bytes the template made. The
    registration badge still comes from workshops/includes/status.html,
    rendered once for each badge the page shows."""
    url = reverse_for_ids("workshops:detail")
    online, in_person = escape(_("Online")), escape(_("In person"))
    when = DateFormatter("D j M Y, H:i")
    badges: dict = {}
    html = []
    for workshop, registration in rows:
        badge_key = (registration.status, registration.waitlist_position) if registration else None
        if badge_key not in badges:
            badges[badge_key] = render_to_string("workshops/includes/status.html", {"registration": registration})
        start = workshop.first_start
        sessions, seats_left = workshop.sessions, workshop.seats_left
        html.append(
            WORKSHOP_ROW.format(
                url=url(workshop.pk),
                title=escape(workshop.title),
                status=badges[badge_key],
                start=when(timezone.localtime(start)) if start else "",
                mode=online if workshop.is_online else in_person,
                sessions=ngettext("%(n)s session", "%(n)s sessions", sessions) % {"n": sessions},
                seats=(
                    ngettext("%(n)s seat left", "%(n)s seats left", seats_left) % {"n": seats_left}
                    if seats_left
                    else escape(_("Full: waitlist open"))
                ),
                topics="".join(f' <span class="badge">{escape(name)}</span>' for name in workshop.topics),
            )
        )
    return mark_safe("".join(html))  # noqa: S308 - every value escaped (the badge by its template)


def _visible_workshop(request, pk: int) -> Workshop:
    return get_object_or_404(
        Workshop.objects.visible_to(request.user)
        .with_seats()
        .prefetch_related("topics", "sessions", "facilitators__member", "materials", "resources"),
        pk=pk,
    )


def workshop_detail(request, pk: int):
    workshop = _visible_workshop(request, pk)
    registration = Registration.objects.filter(workshop=workshop, member=request.member).first()
    manages = can_manage(user=request.user, workshop=workshop, facilitators=workshop.facilitators.all())
    holds_seat = registration is not None and registration.holds_seat
    context = {
        "workshop": workshop,
        "registration": registration,
        "manages": manages,
        "show_link": holds_seat or manages,
        "see_materials": holds_seat or manages,
        "seats_left": max(workshop.capacity - workshop.seats_taken, 0),
        "can_register": workshop.status == Workshop.Status.PUBLISHED
        and not workshop.has_started()
        and (registration is None or not registration.is_active),
        "can_cancel": registration is not None and registration.is_active and not workshop.has_started(),
        "feedback_open": registration is not None
        and registration.status in (Registration.Status.ATTENDED, Registration.Status.PARTIAL)
        and workshop.has_ended(),
    }
    return render(request, "workshops/detail.html", context)


@require_POST
def register(request, pk: int):
    workshop = _visible_workshop(request, pk)
    try:
        registration = workshop_register(workshop_id=workshop.pk, member=request.member, actor=request.user)
    except RegistrationRefused as exc:
        messages.error(request, str(exc))
    else:
        if registration.status == Registration.Status.WAITLISTED:
            messages.warning(
                request,
                _(
                    "The workshop is full: you are on the waitlist at position %(position)s. We will email you if a seat opens up."
                )
                % {"position": registration.waitlist_position},
            )
        elif registration.status == Registration.Status.REQUESTED:
            messages.success(request, _("Request sent. A facilitator will confirm your place."))
        else:
            messages.success(
                request,
                _("You are registered. A confirmation with a calendar invitation is on its way.")
                if request.member.calendar_invitations
                else _("You are registered. A confirmation with a calendar file is on its way."),
            )
    return redirect("workshops:detail", pk=workshop.pk)


@require_POST
def cancel_registration(request, pk: int):
    registration = get_object_or_404(Registration, workshop_id=pk, member=request.member)
    try:
        registration_cancel(registration_id=registration.pk, actor=request.user)
    except RegistrationRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Your registration is cancelled."))
    return redirect("workshops:detail", pk=pk)


def workshop_calendar(request, pk: int):
    """The workshop's .ics; the online link only for people holding a seat."""
    workshop = _visible_workshop(request, pk)
    holds_seat = Registration.objects.filter(
        workshop=workshop, member=request.member, status__in=SEAT_STATUSES
    ).exists()
    body = workshop_ics(workshop, include_link=holds_seat or can_manage(user=request.user, workshop=workshop))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="workshop-{workshop.pk}.ics"'
    return response


def my_workshops(request):
    registrations = list(
        Registration.objects.filter(member=request.member)
        .exclude(status=Registration.Status.CANCELLED)
        .select_related("workshop")
        .prefetch_related("workshop__sessions")
        .order_by("-created_at")
    )
    answered = set(Feedback.objects.filter(registration__in=registrations).values_list("registration_id", flat=True))
    # By date, not by when the person registered: the next workshop first,
    # then the most recent past one first.
    upcoming = sorted(
        (r for r in registrations if not r.workshop.has_ended()),
        key=lambda r: (r.workshop.starts_at is None, r.workshop.starts_at or timezone.now(), r.pk),
    )
    past = sorted(
        (r for r in registrations if r.workshop.has_ended()), key=lambda r: (r.workshop.ends_at, r.pk), reverse=True
    )
    feed = CalendarFeed.objects.filter(member=request.member).first()
    feed_url = request.build_absolute_uri(_feed_path(feed)) if feed else ""
    return render(
        request,
        "workshops/mine.html",
        {"upcoming": upcoming, "past": past, "answered": answered, "feed_url": feed_url},
    )


def _feed_path(feed: CalendarFeed) -> str:

    return reverse("workshops:calendar_feed", kwargs={"token": feed.token})


@require_POST
def calendar_reset(request):
    """Create the member's secret calendar address, or replace it (the old one stops working)."""
    feed, created = CalendarFeed.objects.get_or_create(member=request.member)
    if not created:
        feed.token = new_calendar_token()
        feed.save(update_fields=["token"])
        messages.success(request, _("Your calendar address was replaced; the old one no longer works."))
    else:
        messages.success(request, _("Your calendar address is ready. Subscribe to it in your calendar app."))
    return redirect("workshops:mine")


def calendar_feed(request, token: str):
    """A member's registrations as a calendar. Secret address, no sign-in;
    dead once the member is deactivated or resets it."""
    feed = CalendarFeed.objects.filter(token=token, member__user__is_active=True).select_related("member").first()
    if feed is None:
        raise Http404
    workshops = (
        Workshop.objects.filter(
            registrations__member=feed.member,
            registrations__status__in=SEAT_STATUSES,
        )
        .exclude(status=Workshop.Status.DRAFT)
        .prefetch_related("sessions")
        .distinct()
    )
    response = HttpResponse(member_feed_ics(workshops), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response


def feedback(request, pk: int):
    """The attendee's one short survey after the last session."""
    registration = get_object_or_404(
        Registration.objects.select_related("workshop").filter(
            status__in=(Registration.Status.ATTENDED, Registration.Status.PARTIAL)
        ),
        workshop_id=pk,
        member=request.member,
    )
    workshop = registration.workshop
    existing = Feedback.objects.filter(registration=registration).first()
    form = None
    if existing is None and workshop.has_ended():
        form = FeedbackForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                feedback_submit(registration=registration, **form.cleaned_data)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("Thank you for your feedback."))
            return redirect("workshops:feedback", pk=pk)
    return render(request, "workshops/feedback.html", {"workshop": workshop, "existing": existing, "form": form})


def material_file(request, pk: int):
    """A workshop file, for the people holding a seat and the facilitators."""
    material = get_object_or_404(WorkshopMaterial.objects.select_related("workshop").exclude(file=""), pk=pk)
    workshop = material.workshop
    allowed = can_manage(user=request.user, workshop=workshop) or (
        workshop.status != Workshop.Status.DRAFT
        and Registration.objects.filter(workshop=workshop, member=request.member, status__in=SEAT_STATUSES).exists()
    )
    if not allowed:
        raise Http404
    return file_response(material.file, file_name=material.file_name, content_type=material.content_type)


def resource_list(request):
    form = ResourceSearchForm(request.GET or None)
    resources = Resource.objects.select_related("topic")
    if form.is_valid():
        q = form.cleaned_data["q"].strip()
        if q:
            resources = resources.filter(Q(title__icontains=q) | Q(description__icontains=q) | Q(audience__icontains=q))
        if form.cleaned_data["topic"]:
            resources = resources.filter(topic=form.cleaned_data["topic"])
        if form.cleaned_data["kind"]:
            resources = resources.filter(kind=form.cleaned_data["kind"])
    return render(request, "workshops/resources.html", {"form": form, "resources": list(resources[:200])})


def resource_file(request, pk: int):
    resource = get_object_or_404(Resource.objects.exclude(file=""), pk=pk)
    return file_response(resource.file, file_name=resource.file_name, content_type=resource.content_type)


def feedback_summary(request):
    """For leaders: average ratings, only for workshops with 5 or more answers."""
    return render(request, "workshops/feedback_summary.html", {"averages": feedback_averages()})
