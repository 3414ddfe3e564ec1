"""Facilitator pages: create, edit, publish, cancel, duplicate; roster,
attendance, feedback answers, follow-up; materials and the resource library.

A facilitator sees only the workshops they facilitate (404 otherwise);
admins see every workshop (`Workshop.objects.managed_by`).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.spreadsheets import csv_writer

from ..forms import (
    AttendanceForm,
    MaterialForm,
    RegisterOtherForm,
    ResourceForm,
    SessionFormSet,
    WorkshopForm,
    session_initial,
)
from ..models import Attendance, Feedback, Registration, Resource, Workshop, WorkshopMaterial
from ..services.attendance import Mark, attendance_mark
from ..services.feedback import MIN_GROUP, follow_up
from ..services.registration import (
    RegistrationRefused,
    registration_approve,
    registration_cancel,
    workshop_register,
)
from ..services.workshop import (
    material_add,
    material_delete,
    resource_add,
    resource_delete,
    workshop_cancel,
    workshop_duplicate,
    workshop_publish,
    workshop_save,
)


def _managed(request, pk: int) -> Workshop:
    return get_object_or_404(Workshop.objects.managed_by(request.user).prefetch_related("sessions"), pk=pk)


def manage_list(request):
    workshops = list(
        Workshop.objects.managed_by(request.user)
        .with_dates()
        .with_seats()
        .prefetch_related("sessions")
        .order_by("-first_start", "-pk")
        .distinct()
    )
    return render(request, "workshops/manage_list.html", {"workshops": workshops})


def _edit(request, workshop: Workshop):
    creating = workshop.pk is None
    form = WorkshopForm(request.POST or None, instance=workshop)
    initial = [] if creating else session_initial(workshop)
    formset = SessionFormSet(request.POST or None, initial=initial, prefix="sessions")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        sessions = [
            f.as_input() for f in formset.forms if f.cleaned_data.get("starts_at") and not f.cleaned_data.get("DELETE")
        ]
        if not sessions:
            form.add_error(None, _("Add at least one session."))
        else:
            try:
                saved = workshop_save(
                    workshop=form.save(commit=False),
                    actor=request.user,
                    sessions=sessions,
                    topics=list(form.cleaned_data["topics"]),
                    facilitators=list(form.cleaned_data["facilitators"]),
                    resources=list(form.cleaned_data["resources"]),
                    allow_overbooking=form.cleaned_data["allow_overbooking"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Workshop saved."))
                return redirect("workshops:detail", pk=saved.pk)
    return render(
        request, "workshops/edit.html", {"form": form, "formset": formset, "workshop": workshop, "creating": creating}
    )


def workshop_create(request):
    return _edit(request, Workshop())


def workshop_edit(request, pk: int):
    return _edit(request, _managed(request, pk))


def _action(request, pk: int, action, success: str):
    workshop = _managed(request, pk)
    try:
        result = action(workshop_id=workshop.pk, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("workshops:detail", pk=workshop.pk)
    messages.success(request, success)
    return redirect("workshops:detail", pk=result.pk)


@require_POST
def publish(request, pk: int):
    return _action(request, pk, workshop_publish, _("Published: members can now register."))


@require_POST
def cancel(request, pk: int):
    return _action(request, pk, workshop_cancel, _("Workshop cancelled; everyone registered was told."))


@require_POST
def duplicate(request, pk: int):
    return _action(request, pk, workshop_duplicate, _("A draft copy was made. Check its dates, then publish it."))


def _roster_registrations(workshop: Workshop):
    return (
        Registration.objects.filter(workshop=workshop)
        .select_related("member__user", "member__team", "registered_by")
        .prefetch_related(Prefetch("attendance", queryset=Attendance.objects.all()))
        .order_by("status", "waitlist_position", "created_at", "pk")
    )


def roster(request, pk: int):
    workshop = _managed(request, pk)
    registrations = list(_roster_registrations(workshop))
    sessions = workshop.session_list
    rows = []
    for registration in registrations:
        by_session = {a.session_id: a for a in registration.attendance.all()}
        rows.append((registration, [by_session.get(s.pk) for s in sessions]))
    seated = sum(1 for r in registrations if r.holds_seat)
    return render(
        request,
        "workshops/roster.html",
        {
            "workshop": workshop,
            "rows": rows,
            "sessions": sessions,
            "seated": seated,
            "register_form": RegisterOtherForm(),
        },
    )


def roster_csv(request, pk: int):
    workshop = _managed(request, pk)
    sessions = workshop.session_list
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="roster-{workshop.pk}.csv"'
    writer = csv_writer(response)
    writer.writerow(
        ["name", "email", "team", "status", "waitlist_position", "overbooked", "registered_at"]
        + [f"session_{i}" for i in range(1, len(sessions) + 1)]
    )
    for registration in _roster_registrations(workshop):
        by_session = {a.session_id: a for a in registration.attendance.all()}
        marks = []
        for session in sessions:
            mark = by_session.get(session.pk)
            marks.append(f"{mark.status}:{mark.minutes}" if mark else "")
        member = registration.member
        writer.writerow(
            [
                member.name,
                member.user.email,
                member.team.name if member.team else "",
                registration.status,
                registration.waitlist_position or "",
                "yes" if registration.overbooked else "",
                registration.created_at.isoformat(),
                *marks,
            ]
        )
    return response


@require_POST
def register_other(request, pk: int):
    workshop = _managed(request, pk)
    form = RegisterOtherForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("workshops:roster", pk=workshop.pk)
    try:
        registration = workshop_register(
            workshop_id=workshop.pk,
            member=form.cleaned_data["member"],
            actor=request.user,
            overbook=form.cleaned_data["overbook"],
        )
    except RegistrationRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(name)s: %(status)s.")
            % {"name": registration.member.name, "status": registration.get_status_display()},
        )
    return redirect("workshops:roster", pk=workshop.pk)


@require_POST
def approve(request, pk: int, registration_pk: int):
    workshop = _managed(request, pk)
    registration = get_object_or_404(Registration, workshop=workshop, pk=registration_pk)
    try:
        registration_approve(registration_id=registration.pk, actor=request.user)
    except RegistrationRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Approved."))
    return redirect("workshops:roster", pk=workshop.pk)


@require_POST
def roster_cancel(request, pk: int, registration_pk: int):
    workshop = _managed(request, pk)
    registration = get_object_or_404(Registration, workshop=workshop, pk=registration_pk)
    try:
        registration_cancel(registration_id=registration.pk, actor=request.user, note="cancelled by a facilitator")
    except RegistrationRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Registration cancelled."))
    return redirect("workshops:roster", pk=workshop.pk)


def attendance(request, pk: int, session_pk: int):
    """Everyone holding a seat, one row each, one submit for the whole room."""
    workshop = _managed(request, pk)
    session = get_object_or_404(workshop.sessions, pk=session_pk)
    registrations = list(
        Registration.objects.filter(workshop=workshop)
        .holding_seats()
        .select_related("member__user")
        .order_by("member__display_name", "pk")
    )
    marks = {a.registration_id: a for a in Attendance.objects.filter(session=session)}
    form = AttendanceForm(request.POST or None, registrations=registrations, session=session, initial_marks=marks)
    if request.method == "POST" and form.is_valid():
        try:
            changed = attendance_mark(
                session=session,
                marks={rid: Mark(status=s, minutes=m) for rid, (s, m) in form.marks().items()},
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Attendance saved (%(n)s changed).") % {"n": changed})
            return redirect("workshops:roster", pk=workshop.pk)
    return render(
        request,
        "workshops/attendance.html",
        {
            "workshop": workshop,
            "session": session,
            "form": form,
            "session_index": workshop.session_list.index(session) + 1,
        },
    )


def feedback_results(request, pk: int):
    workshop = _managed(request, pk)
    answers = list(
        Feedback.objects.filter(registration__workshop=workshop)
        .select_related("registration__member")
        .order_by("-created_at")
    )
    average = round(sum(a.rating for a in answers) / len(answers), 2) if answers else None
    return render(
        request, "workshops/feedback_results.html", {"workshop": workshop, "answers": answers, "average": average}
    )


def follow_up_view(request, pk: int):
    workshop = _managed(request, pk)
    return render(
        request,
        "workshops/follow_up.html",
        {"workshop": workshop, "figures": follow_up(workshop=workshop), "min_group": MIN_GROUP},
    )


def materials(request, pk: int):
    workshop = _managed(request, pk)
    form = MaterialForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            material_add(
                workshop=workshop,
                actor=request.user,
                title=form.cleaned_data["title"],
                url=form.cleaned_data["url"],
                upload=form.cleaned_data["file"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Material added."))
            return redirect("workshops:materials", pk=workshop.pk)
    return render(
        request,
        "workshops/materials.html",
        {"workshop": workshop, "form": form, "materials": list(workshop.materials.all())},
    )


@require_POST
def material_remove(request, pk: int, material_pk: int):
    workshop = _managed(request, pk)
    material = get_object_or_404(WorkshopMaterial, workshop=workshop, pk=material_pk)
    material_delete(material=material)
    messages.success(request, _("Material removed."))
    return redirect("workshops:materials", pk=workshop.pk)


def resource_create(request):
    form = ResourceForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            resource_add(
                actor=request.user,
                title=data["title"],
                kind=data["kind"],
                description=data["description"],
                url=data["url"],
                upload=data["file"],
                topic=data["topic"],
                audience=data["audience"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Added to the library."))
            return redirect("workshops:resources")
    return render(request, "workshops/resource_form.html", {"form": form})


@require_POST
def resource_remove(request, pk: int):
    resource = get_object_or_404(Resource, pk=pk)
    resource_delete(resource=resource)
    messages.success(request, _("Removed from the library."))
    return redirect("workshops:resources")
