"""Clock pages: the weekly timesheet, entries, the timer, approvals, exports.
Thin: every change goes through workshops.clock.services."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from typing import NamedTuple

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, QuerySet
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core import dates
from core.formatting import DateFormatter
from core.redirects import redirect_next
from core.urls import reverse_for_ids
from members.models import Member, TeamTree

from . import exports
from . import services as svc
from .durations import format_minutes
from .forms import ExportForm, ReasonForm, TimeEntryForm
from .models import ACTIVITY_DESCRIPTIONS, Activity, ClockPolicy, ClockWeekLock, TimeEntry
from .templatetags.clock_tags import RUNNING_TIMER

Status = TimeEntry.Status
APPROVALS_PER_PAGE = 10


def _member(request) -> Member:
    return Member.objects.select_related("team__parent__parent", "user").get(user=request.user)


def _week_param(request, member: Member, policy: ClockPolicy) -> dt.date:
    """The week asked for (`?week=` or the form's), this week when none; a
    week that is not a date in the site's range is a 400 that says so."""
    raw = request.GET.get("week") or request.POST.get("week") or ""
    day = dates.date_param(raw, name=_("week")) or svc.member_today(member)
    return policy.week_start(day)


def _timesheet_context(request, member: Member, week_start: dt.date, policy: ClockPolicy, form=None) -> dict:
    days = [week_start + dt.timedelta(days=i) for i in range(7)]
    entries = list(TimeEntry.objects.live().of(member).in_week(week_start).order_by("date", "started_at", "pk"))
    grid = OrderedDict((value, {"label": label, "days": [0] * 7, "total": 0}) for value, label in Activity.choices)
    day_totals = [0] * 7
    for entry in entries:
        index = (entry.date - week_start).days
        row = grid[entry.activity]
        row["days"][index] += entry.minutes
        row["total"] += entry.minutes
        day_totals[index] += entry.minutes
    counted = sum(e.minutes for e in entries if e.status != Status.REJECTED and policy.counts(e.activity))
    allowance = policy.weekly_allowance_minutes
    today = svc.member_today(member)
    return {
        "member": member,
        "policy": policy,
        "week_start": week_start,
        "week_end": days[-1],
        "days": days,
        "grid": [
            {"activity": k, **v, "cells": [format_minutes(m) if m else "" for m in v["days"]]} for k, v in grid.items()
        ],
        "day_totals": [format_minutes(m) if m else "" for m in day_totals],
        "entries": entries,
        "entries_html": _entries_html(entries, csrf_token=get_token(request)),
        "used": format_minutes(counted) if counted else "0 min",
        "remaining": format_minutes(max(0, allowance - counted)) if allowance > counted else "0 min",
        "over": counted > allowance,
        "allowance": format_minutes(allowance),
        "drafts": sum(1 for e in entries if e.status == Status.DRAFT),
        "locked": ClockWeekLock.objects.filter(member=member, week_start=week_start).exists(),
        "previous_week": week_start - dt.timedelta(days=7),
        "next_week": week_start + dt.timedelta(days=7) if week_start + dt.timedelta(days=7) <= today else None,
        "form": form or TimeEntryForm(member=member, initial={"date": min(today, days[-1]), "activity": Activity.SEEK}),
        "activities": [(v, label, ACTIVITY_DESCRIPTIONS[v]) for v, label in Activity.choices],
        RUNNING_TIMER: svc.timer_running(member),  # the header's timer too: read once
    }


def clock(request):
    member = request.member  # the timesheet reads no team of the member's (``_member`` loads them for writes)
    policy = svc.policy_for(member)
    week_start = _week_param(request, member, policy)
    return render(request, "workshops/clock/timesheet.html", _timesheet_context(request, member, week_start, policy))


ENTRY_ITEM = (
    '\n  <li class="clock-entry clock-{status}">\n'
    '    <a href="{url}">{day} · {minutes} min · {activity}</a>\n'
    '    <span class="badge">{status_label}</span>\n'
    "    {over}\n"
    "    {overlap}\n"
    "    {capped}\n"
    "    {note}\n"
    "    {rejected}\n"
    "  </li>\n"
)


def _entries_html(entries: list[TimeEntry], *, csrf_token: str) -> SafeString:
    """The week's entries, built here rather than in the template (whose loop
    took a third of the page's time), in the bytes the template made."""
    entry_url = reverse_for_ids("workshops:clock_entry")
    confirm_url = reverse_for_ids("workshops:clock_entry_confirm")
    warn = '<span class="badge badge-warn">{}</span>'
    over = format_html(warn, _("over the allowance"))
    overlap = format_html(warn, _("overlaps another entry"))
    capped = format_html(warn, _("timer stopped at the limit"))
    confirm = _("Confirm minutes")
    not_approved = escape(_("Not approved:"))
    day = DateFormatter("D j M")
    items = []
    for entry in entries:
        items.append(
            ENTRY_ITEM.format(
                status=escape(entry.status),
                url=entry_url(entry.pk),
                day=day(entry.date),
                minutes=entry.minutes,
                activity=escape(entry.get_activity_display()),
                status_label=escape(entry.get_status_display()),
                over=over if entry.flag_over_allowance else "",
                overlap=overlap if entry.flag_overlap else "",
                capped=format_html(
                    '{}\n      <form method="post" action="{}" class="inline-form">'
                    '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
                    '<button type="submit">{}</button></form>',
                    capped,
                    confirm_url(entry.pk),
                    csrf_token,
                    confirm,
                )
                if entry.flag_timer_capped
                else "",
                note=f'<br><span class="muted">{escape(entry.note)}</span>' if entry.note else "",
                rejected=(
                    f'<br><span class="clock-reason">{not_approved} {escape(entry.rejection_reason)}</span>'
                    if entry.status == Status.REJECTED
                    else ""
                ),
            )
        )
    return mark_safe("".join(items))  # noqa: S308 - every value escaped


def _week_url(day: dt.date) -> str:
    return f"{reverse('workshops:clock')}?week={day.isoformat()}"


@require_POST
def entry_new(request):
    member = _member(request)
    policy = svc.policy_for(member)
    data = request.POST.copy()
    form = TimeEntryForm(data, member=member)
    if form.is_valid():
        minutes = form.cleaned_data["minutes"]
        if form.cleaned_data.get("confirmed") != str(minutes):
            # Step one: echo the parsed value and ask to save.
            data["confirmed"] = str(minutes)
            form = TimeEntryForm(data, member=member)
            form.is_valid()
            form.awaiting_confirmation = True
        else:
            try:
                entry, created = svc.time_entry_create(
                    member=member,
                    actor=request.user,
                    activity=form.cleaned_data["activity"],
                    day=form.cleaned_data["date"],
                    minutes=minutes,
                    started_at=form.cleaned_data["started_at"],
                    ended_at=form.cleaned_data["ended_at"],
                    note=form.cleaned_data["note"],
                    idempotency_key=form.cleaned_data.get("idempotency_key"),
                )
            except svc.ClockRefused as refused:
                form.add_error(None, refused.message)
            else:
                if created:
                    messages.success(
                        request,
                        _("Saved %(minutes)s of %(activity)s.")
                        % {"minutes": format_minutes(entry.minutes), "activity": entry.get_activity_display()},
                    )
                else:
                    messages.info(request, _("This entry was already saved (from another tab or a second click)."))
                if entry.flag_over_allowance:
                    messages.warning(
                        request, _("This goes beyond your weekly allowance; it is flagged for your manager.")
                    )
                return redirect(_week_url(entry.date))
    week_start = (
        policy.week_start(form.cleaned_data.get("date") or svc.member_today(member))
        if hasattr(form, "cleaned_data")
        else _week_param(request, member, policy)
    )
    context = _timesheet_context(request, member, week_start, policy, form=form)
    return render(request, "workshops/clock/timesheet.html", context, status=200 if form.is_bound else 400)


def _own_entry(request, pk: int) -> TimeEntry:
    return get_object_or_404(TimeEntry.objects.live().select_related("member"), pk=pk, member__user=request.user)


def entry_detail(request, pk: int):
    """An own entry: edit it while it is a draft or rejected; see its history."""
    entry = _own_entry(request, pk)
    member = _member(request)
    form = None
    if request.method == "POST":
        data = request.POST.copy()
        form = TimeEntryForm(data, member=member)
        if form.is_valid():
            try:
                entry = svc.time_entry_update(
                    entry_id=entry.pk,
                    actor=request.user,
                    version=form.cleaned_data.get("version") or 0,
                    activity=form.cleaned_data["activity"],
                    day=form.cleaned_data["date"],
                    minutes=form.cleaned_data["minutes"],
                    started_at=form.cleaned_data["started_at"],
                    ended_at=form.cleaned_data["ended_at"],
                    note=form.cleaned_data["note"],
                    request=request,
                )
            except svc.ClockRefused as refused:
                entry.refresh_from_db()
                # Keep what they typed; move the form onto the current version
                # so saving again is a deliberate choice.
                data["version"] = str(entry.version)
                form = TimeEntryForm(data, member=member)
                form.is_valid()
                form.add_error(None, refused.message)
                messages.error(request, refused.message)
            else:
                messages.success(request, _("Entry updated."))
                return redirect(_week_url(entry.date))
    if form is None:
        local = entry.member.tzinfo
        form = TimeEntryForm(
            member=member,
            initial={
                "date": entry.date,
                "duration": "" if entry.started_at else str(entry.minutes),
                "start": entry.started_at.astimezone(local).time() if entry.started_at else None,
                "end": entry.ended_at.astimezone(local).time() if entry.ended_at else None,
                "activity": entry.activity,
                "note": entry.note,
                "version": entry.version,
            },
        )
    history = list(entry.history.all())
    return render(
        request,
        "workshops/clock/entry.html",
        {"entry": entry, "form": form, "history": history, "editable": entry.owner_can_edit},
    )


@require_POST
def entry_delete(request, pk: int):
    entry = _own_entry(request, pk)
    try:
        svc.time_entry_delete(
            entry_id=entry.pk, actor=request.user, version=request.POST.get("version"), request=request
        )
    except svc.ClockRefused as refused:
        messages.error(request, refused.message)
        return redirect("workshops:clock_entry", pk=entry.pk)
    messages.success(request, _("Entry deleted."))
    return redirect(_week_url(entry.date))


@require_POST
def entry_confirm(request, pk: int):
    entry = _own_entry(request, pk)
    svc.time_entry_confirm(entry_id=entry.pk, actor=request.user)
    messages.success(request, _("Thanks, the minutes are confirmed."))
    return redirect(_week_url(entry.date))


@require_POST
def week_submit(request):
    member = _member(request)
    policy = svc.policy_for(member)
    week_start = _week_param(request, member, policy)
    count = svc.week_submit(member=member, week_start=week_start, actor=request.user)
    if count and not policy.approval_required:
        messages.success(
            request,
            _("Week submitted: %(count)s entries approved at once (your clock policy needs no approval).")
            % {"count": count},
        )
    elif count:
        messages.success(request, _("Week submitted: %(count)s entries sent for approval.") % {"count": count})
    else:
        messages.info(request, _("Nothing to submit: there are no draft entries this week."))
    return redirect(_week_url(week_start))


@require_POST
def timer_start(request):
    member = _member(request)
    timer, started = svc.timer_start(
        member=member, activity=request.POST.get("activity") or Activity.SEEK, note=request.POST.get("note", "")
    )
    if started:
        messages.success(request, _("Timer started."))
    else:
        messages.info(
            request,
            _("A timer was already running (%(activity)s since %(since)s); it keeps going.")
            % {
                "activity": timer.get_activity_display(),
                "since": date_format(timezone.localtime(timer.started_at, member.tzinfo), "H:i"),
            },
        )
    return redirect_next(request, fallback="workshops:clock")


@require_POST
def timer_stop(request):
    entry = svc.timer_stop(member=_member(request))
    if entry is None:
        messages.info(request, _("No timer was running."))
    elif entry.flag_timer_capped:
        messages.warning(request, _("The timer ran past the limit and was stopped there; please confirm the minutes."))
    else:
        messages.success(
            request, _("Timer stopped: %(minutes)s recorded as a draft.") % {"minutes": format_minutes(entry.minutes)}
        )
    return redirect_next(request, fallback="workshops:clock")


# --- Approvals -------------------------------------------------------------------


def _approvable_entries(user, approvable: QuerySet[Member] | None = None):
    """Live entries ``user`` approves; ``approvable``: the caller's
    ``svc.members_approvable_by(user)``, when it has it already."""
    qs = TimeEntry.objects.live()
    if user.is_staff:
        return qs.exclude(member__user=user).exclude(member__isnull=True)
    return qs.filter(member__in=svc.members_approvable_by(user) if approvable is None else approvable)


def _handle_approval_post(request) -> None:
    post = request.POST
    user = request.user
    try:
        if "approve" in post:
            svc.time_entry_approve(entry_id=int(post["approve"]), actor=user)
            messages.success(request, _("Entry approved."))
        elif "reject" in post:
            pk = int(post["reject"])
            svc.time_entry_reject(entry_id=pk, actor=user, reason=post.get(f"reason_{pk}", ""))
            messages.success(request, _("Entry rejected; the person was told why."))
        elif "approve_week" in post or "reject_week" in post:
            member_id, week = (post.get("approve_week") or post.get("reject_week")).split(":")
            member = get_object_or_404(svc.members_approvable_by(user).select_related("user"), pk=int(member_id))
            week_start = dates.date_param(week, name=_("week"))
            if week_start is None:
                raise dates.InputRefused(dates.DATES.param_message(_("week"), week))
            if "approve_week" in post:
                count = svc.week_approve(member=member, week_start=week_start, actor=user, request=request)
                messages.success(request, _("Week approved: %(count)s entries.") % {"count": count})
            else:
                count = svc.week_reject(
                    member=member,
                    week_start=week_start,
                    actor=user,
                    reason=post.get(f"reason_week_{member_id}_{week}", ""),
                )
                messages.success(
                    request, _("Week rejected: %(count)s entries; the person was told why.") % {"count": count}
                )
        elif "bulk" in post:
            ids = [int(v) for v in post.getlist("entries") if v.isdigit()]
            count = svc.entries_bulk_approve(entry_ids=ids, actor=user, request=request)
            messages.success(request, _("Approved %(count)s entries.") % {"count": count})
    except (ValueError, TimeEntry.DoesNotExist) as exc:
        raise Http404 from exc
    except svc.ClockRefused as refused:
        messages.error(request, refused.message)


APPROVAL_FIELDS = ("pk", "member_id", "date", "minutes", "activity", "note", "flag_overlap", "flag_over_allowance")
APPROVAL_ROW = (
    "<tr>"
    '<td><input type="checkbox" name="entries" value="{pk}" id="sel-{pk}">'
    '<label class="visually-hidden" for="sel-{pk}">{select} {short}</label></td>'
    '<td><a href="{review}">{day}</a></td>'
    "<td>{minutes}</td>"
    "<td>{activity}{flags}</td>"
    "<td>{note}</td>"
    '<td><button type="submit" name="approve" value="{pk}">{approve}</button> '
    '<label for="reason-{pk}">{reason}</label> '
    '<input type="text" name="reason_{pk}" id="reason-{pk}" maxlength="2000"> '
    '<button type="submit" name="reject" value="{pk}" class="secondary">{reject}</button></td>'
    "</tr>"
)


class _ApprovalEntry(NamedTuple):
    """One submitted entry as the approvals page reads it (APPROVAL_FIELDS):
    a tuple, because building hundreds of model instances cost more than
    rendering them."""

    pk: int
    member_id: int
    date: dt.date
    minutes: int
    activity: str
    note: str
    flag_overlap: bool
    flag_over_allowance: bool


def _note_short(note: str) -> str:
    """Truncator(note).chars(80), without its work for the usual short ASCII
    note (which it returns as it is)."""
    if len(note) <= 80 and note.isascii():
        return note
    return Truncator(note).chars(80)


def _approval_rows(entries: list[_ApprovalEntry]) -> str:
    """The rows of one person's week, built here rather than in the template:
    a manager's page holds hundreds of rows, and the template engine spent
    most of the page's time on them. Every value is escaped (what format_html
    would do, but each repeated word, date and label only once)."""
    words = {
        "select": escape(_("Select")),
        "approve": escape(_("Approve")),
        "reason": escape(_("Reason to reject")),
        "reject": escape(_("Reject")),
    }
    overlap = format_html(' <span class="badge badge-warn">{}</span>', _("overlap"))
    over = format_html(' <span class="badge badge-warn">{}</span>', _("over"))
    review = reverse_for_ids("workshops:approval_entry", kwarg="pk")
    activity_labels = {value: escape(str(label)) for value, label in Activity.choices}
    labels: dict = {}  # rows repeat a handful of dates: format each once
    rows = []
    for entry in entries:
        if entry.date not in labels:
            labels[entry.date] = (escape(date_format(entry.date, "D j M")), escape(date_format(entry.date, "j M")))
        day, short = labels[entry.date]
        pk = str(entry.pk)
        rows.append(
            APPROVAL_ROW.format(
                pk=pk,
                short=short,
                day=day,
                review=escape(review(entry.pk)),
                minutes=entry.minutes,
                activity=activity_labels[entry.activity],
                flags=(overlap if entry.flag_overlap else "") + (over if entry.flag_over_allowance else ""),
                note=escape(_note_short(entry.note)),
                **words,
            )
        )
    return mark_safe("".join(rows))  # noqa: S308 - every value above is escaped or built by format_html


def approvals(request):
    if request.method == "POST":
        _handle_approval_post(request)
        return redirect("workshops:approvals")
    policies = {p.team_id: p for p in ClockPolicy.objects.all()}
    tree = TeamTree.load()
    approvable = svc.members_approvable_by(request.user, tree=tree)
    waiting = _approvable_entries(request.user, approvable).filter(status=Status.SUBMITTED)
    # A page holds the submitted weeks of APPROVALS_PER_PAGE people: the
    # approver's people with a waiting entry, each probed through the waiting
    # index (not every waiting entry of the organization scanned, then joined).
    people = approvable.filter(
        Exists(TimeEntry.objects.live().filter(member=OuterRef("pk"), status=Status.SUBMITTED))
    ).order_by("display_name", "pk")
    page = Paginator(people.values_list("pk", flat=True), APPROVALS_PER_PAGE).get_page(request.GET.get("page"))
    # The page's people once (with what their policy needs), then their
    # entries without joins: hundreds of rows, ten people.
    ids = list(page.object_list)
    members = Member.objects.select_related("user").in_bulk(ids)
    member_policy = {pk: svc.policy_for(m, policies=policies, tree=tree) for pk, m in members.items()}
    rows = waiting.filter(member_id__in=ids).order_by("date", "pk").values_list(*APPROVAL_FIELDS)
    position = {pk: index for index, pk in enumerate(ids)}
    entries = sorted(map(_ApprovalEntry._make, rows), key=lambda e: position[e.member_id])  # the page's order
    groups: OrderedDict = OrderedDict()
    for entry in entries:
        policy = member_policy[entry.member_id]
        week = policy.week_start(entry.date)
        group = groups.setdefault(
            (entry.member_id, week),
            {
                "member": members[entry.member_id],
                "week_start": week,
                "entries": [],
                "minutes": 0,
                "counted_minutes": 0,
                "policy": policy,
            },
        )
        group["entries"].append(entry)
        group["minutes"] += entry.minutes
        if policy.counts(entry.activity):
            group["counted_minutes"] += entry.minutes
    for group in groups.values():
        group["rows"] = _approval_rows(group["entries"])
        group["total"] = format_minutes(group["minutes"])
        # Activities the policy does not pay for use no allowance.
        group["over"] = group["counted_minutes"] > group["policy"].weekly_allowance_minutes
        group["key"] = f"{group['member'].pk}:{group['week_start'].isoformat()}"
        group["reason_name"] = f"reason_week_{group['member'].pk}_{group['week_start'].isoformat()}"
    return render(request, "workshops/clock/approvals.html", {"groups": list(groups.values()), "page": page})


def approval_entry(request, pk: int):
    entry = get_object_or_404(_approvable_entries(request.user).select_related("member__user"), pk=pk)
    return render(
        request,
        "workshops/clock/review.html",
        {"entry": entry, "history": list(entry.history.all()), "reason_form": ReasonForm()},
    )


@require_POST
def approval_reopen(request, pk: int):
    entry = get_object_or_404(_approvable_entries(request.user), pk=pk)
    try:
        svc.time_entry_reopen(
            entry_id=entry.pk, actor=request.user, reason=request.POST.get("reason", ""), request=request
        )
    except svc.ClockRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Entry reopened; its owner can correct and submit it again."))
    return redirect("workshops:approval_entry", pk=entry.pk)


# --- Exports ---------------------------------------------------------------------


def _export_form(request):
    today = timezone.localdate()
    data = request.GET.copy()
    data.setdefault("start", today.replace(day=1).isoformat())
    data.setdefault("end", today.isoformat())
    return ExportForm(data, teams=exports.teams_visible_to(request.user))


def export(request):
    form = _export_form(request)
    form.is_valid()
    query = request.GET.urlencode() or f"start={form.data['start']}&end={form.data['end']}"
    return render(request, "workshops/clock/export.html", {"form": form, "query": query})


def _export_qs(request):
    form = _export_form(request)
    if not form.is_valid():
        if "team" in form.errors:
            raise Http404  # a team that is not among the ones this person sees
        problems = " ".join(str(message) for errors in form.errors.values() for message in errors)
        raise dates.InputRefused(_("This export cannot be made: %(problems)s") % {"problems": problems})
    d = form.cleaned_data
    return exports.export_queryset(
        user=request.user, start=d["start"], end=d["end"], team_id=d.get("team"), status=d.get("status") or None
    ), d


def export_csv(request):
    qs, d = _export_qs(request)
    response = StreamingHttpResponse(exports.csv_stream(qs), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="time-{d["start"]}-{d["end"]}.csv"'
    return response


def export_xlsx(request):
    qs, d = _export_qs(request)
    return FileResponse(
        exports.xlsx_file(qs),
        as_attachment=True,
        filename=f"time-{d['start']}-{d['end']}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def export_summary(request):
    qs, d = _export_qs(request)
    response = StreamingHttpResponse(exports.summary_csv_stream(qs), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="time-summary-{d["start"]}-{d["end"]}.csv"'
    return response
