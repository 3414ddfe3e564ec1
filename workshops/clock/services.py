"""Time on the clock: recording, timers, submission, approval, attendance.

Every write happens in one transaction that first locks the member's row
(`Member ... select_for_update`), so the rules that look at a member's other
entries (overlaps, the weekly allowance, the one running timer, "a week is
locked only when everything in it is approved") cannot race. The order is
always the same: the member's row (several members: by id), then the entry
rows, then the week's lock row; a path that starts from an entry looks up its
member first and locks that before the entry.
Every committed change appends a `TimeEntryHistory` row; edits carry the
`version` the person saw, and a stale version is refused with a clear message
(`VersionConflict`) rather than silently overwriting someone else's change.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from members.audit import TIME_ADMIN_EDITED, TIME_REOPENED, WEEK_LOCK_CHANGED, audit_record
from members.models import Member, TeamTree, User
from members.outbox import email_enqueue

from .durations import MAX_MINUTES, format_minutes
from .models import Activity, ClockPolicy, ClockTimer, ClockWeekLock, TimeEntry, TimeEntryHistory

Status = TimeEntry.Status
Source = TimeEntry.Source
DEFAULT_TIMER_LIMIT_MINUTES = 240


class ClockRefused(Exception):
    """A rule refused the change; the message is for people."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class VersionConflict(ClockRefused):
    """Someone else changed the entry since the form was opened."""


# --- Policy and dates ----------------------------------------------------------


def timer_limit_minutes() -> int:
    return int(getattr(settings, "CLOCK_TIMER_LIMIT_MINUTES", DEFAULT_TIMER_LIMIT_MINUTES))


def policy_for(member: Member | None, *, policies: dict | None = None, tree: TeamTree | None = None) -> ClockPolicy:
    """The team's override (nearest team up the tree), else the default, else
    an unsaved policy with the built-in defaults. Pass `policies` and `tree`
    when asking for many members."""
    if policies is None:
        policies = {p.team_id: p for p in ClockPolicy.objects.all()}
    team_id = member.team_id if member is not None else None
    if team_id is not None and any(key is not None for key in policies):
        for lineage_team_id in (tree or TeamTree.load()).lineage(team_id):
            if lineage_team_id in policies:
                return policies[lineage_team_id]
    return policies.get(None) or ClockPolicy()


def member_today(member: Member, now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(member.tzinfo).date()


def local_date(member: Member, moment: dt.datetime) -> dt.date:
    return moment.astimezone(member.tzinfo).date()


def week_is_locked(member: Member, day: dt.date, policy: ClockPolicy | None = None) -> bool:
    policy = policy or policy_for(member)
    return ClockWeekLock.objects.filter(member=member, week_start=policy.week_start(day)).exists()


def approver_id_of(member: Member, *, tree: TeamTree | None = None) -> int | None:
    """Who approves this member's time; None = an admin (`TeamTree.approver_id`)."""
    return member.approver_id(tree=tree)


def members_approvable_by(user: User, *, tree: TeamTree | None = None):
    """Members whose time `user` approves (admins: everyone but themself).
    The same chain as `can_approve`, as a queryset."""
    if user.is_staff:
        return Member.objects.exclude(user=user)
    return Member.objects.approved_by(user.pk, tree=tree)


def can_approve(user: User, member: Member | None, *, tree: TeamTree | None = None) -> bool:
    if member is None or member.user_id == user.pk:
        return False
    return bool(user.is_staff or approver_id_of(member, tree=tree) == user.pk)


def _lock_member(member: Member) -> Member:
    return Member.objects.select_for_update(of=("self",)).select_related("team__parent", "user").get(pk=member.pk)


def clock_members_lock(*, member_ids: Iterable[int | None]) -> None:
    """Take the clock's lock on these members' rows inside the caller's
    transaction, in id order so two approvers never deadlock. Every write that
    adds, changes, submits, approves or deletes an entry, and every path that
    locks or unlocks a week (the admin's too), takes it first."""
    ids = sorted({pk for pk in member_ids if pk is not None})
    if ids:
        list(Member.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk").values_list("pk"))


def _history(entry: TimeEntry, *, actor, action: str, before: dict | None, reason: str = "") -> None:
    TimeEntryHistory.objects.create(
        entry=entry,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_email=getattr(actor, "email", "") or "",
        action=action,
        reason=reason,
        before=before,
        after=entry.snapshot(),
    )


def _week_minutes(member: Member, policy: ClockPolicy, day: dt.date, *, exclude_pk: int | None = None) -> int:
    start = policy.week_start(day)
    qs = (
        TimeEntry.objects.live()
        .of(member)
        .in_week(start)
        .exclude(status=Status.REJECTED)
        .filter(activity__in=policy.counted_activities or [])
    )
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.aggregate(total=Sum("minutes"))["total"] or 0


def _overlapping(member: Member, started_at, ended_at, *, exclude_pk: int | None = None):
    qs = (
        TimeEntry.objects.live()
        .of(member)
        .exclude(status=Status.REJECTED)
        .filter(started_at__lt=ended_at, ended_at__gt=started_at)
    )
    return qs.exclude(pk=exclude_pk) if exclude_pk else qs


def _check_basic(*, member: Member, day: dt.date, minutes: int, started_at, ended_at, now) -> None:
    if minutes is None or minutes <= 0:
        raise ClockRefused(_("A duration must be more than zero minutes."))
    if minutes > MAX_MINUTES:
        raise ClockRefused(_("Nothing over 12 hours: split it into separate entries."))
    if day > member_today(member, now):
        raise ClockRefused(_("Time cannot be recorded for a future date."))
    if ended_at is not None and ended_at > now + dt.timedelta(minutes=1):
        raise ClockRefused(_("Time cannot end in the future."))


def _timed_fields(member: Member, *, day, minutes, started_at, ended_at):
    """Start/end win over a typed duration; the date is the start's local date."""
    if started_at is not None or ended_at is not None:
        if started_at is None or ended_at is None:
            raise ClockRefused(_("Give both a start and an end, or a duration."))
        if ended_at <= started_at:
            raise ClockRefused(_("The end must be after the start."))
        seconds = (ended_at - started_at).total_seconds()
        if seconds % 60:
            raise ClockRefused(_("Start and end must be whole minutes."))
        return local_date(member, started_at), int(seconds // 60)
    if day is None:
        raise ClockRefused(_("Give a date."))
    return day, minutes


def _allowance_flag(member, policy, day, minutes, *, exclude_pk=None, refuse_allowed=True) -> bool:
    if not policy.counted_activities:
        return False
    used = _week_minutes(member, policy, day, exclude_pk=exclude_pk)
    if used + minutes <= policy.weekly_allowance_minutes:
        return False
    if refuse_allowed and policy.over_allowance == ClockPolicy.OverAllowance.REFUSE:
        raise ClockRefused(
            _("This goes beyond the weekly allowance of %(allowance)s (already recorded: %(used)s).")
            % {"allowance": format_minutes(policy.weekly_allowance_minutes), "used": format_minutes(used)}
        )
    return True


# --- Recording -----------------------------------------------------------------


def time_entry_create(
    *,
    member: Member,
    actor: User,
    activity: str,
    day: dt.date | None = None,
    minutes: int | None = None,
    started_at: dt.datetime | None = None,
    ended_at: dt.datetime | None = None,
    note: str = "",
    workshop=None,
    stream_entry=None,
    idempotency_key: uuid.UUID | str | None = None,
    now: dt.datetime | None = None,
) -> tuple[TimeEntry, bool]:
    """Record a draft entry. The same idempotency key twice (two tabs, a
    double click) gives back the first entry: returns (entry, created)."""
    now = now or timezone.now()
    if activity not in Activity.values:
        raise ClockRefused(_("Choose an activity."))
    day, minutes = _timed_fields(member, day=day, minutes=minutes, started_at=started_at, ended_at=ended_at)
    _check_basic(member=member, day=day, minutes=minutes, started_at=started_at, ended_at=ended_at, now=now)
    if idempotency_key:
        existing = TimeEntry.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if existing.member_id != member.pk:
                raise ClockRefused(_("This form was already used; reload the page."))
            return existing, False
    try:
        with transaction.atomic():
            member = _lock_member(member)
            if idempotency_key:
                existing = TimeEntry.objects.filter(idempotency_key=idempotency_key).first()
                if existing is not None:
                    return existing, False
            policy = policy_for(member)
            if week_is_locked(member, day, policy) and not actor.is_staff:
                raise ClockRefused(_("This week is approved and locked; only an admin can change it."))
            if started_at is not None and _overlapping(member, started_at, ended_at).exists():
                raise ClockRefused(_("This overlaps another of your timed entries."))
            over = policy.counts(activity) and _allowance_flag(member, policy, day, minutes)
            entry = TimeEntry.objects.create(
                member=member,
                team=member.team,
                team_name=member.team.name if member.team else "",
                date=day,
                started_at=started_at,
                ended_at=ended_at,
                minutes=minutes,
                activity=activity,
                note=note,
                workshop=workshop,
                stream_entry=stream_entry,
                stream_title=(stream_entry.title or "")[:500] if stream_entry else "",
                stream_link=(stream_entry.link or "")[:2000] if stream_entry else "",
                flag_over_allowance=over,
                idempotency_key=idempotency_key or None,
                created_by=actor,
            )
            _history(entry, actor=actor, action="created", before=None)
    except IntegrityError:
        if idempotency_key:
            existing = TimeEntry.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing, False
        raise
    return entry, True


def _editable_by(entry: TimeEntry, actor: User, policy: ClockPolicy) -> str:
    """'owner' or 'admin', else refuse."""
    locked = entry.member is not None and week_is_locked(entry.member, entry.date, policy)
    if actor.is_staff and (locked or entry.member is None or entry.member.user_id != actor.pk):
        return "admin"
    if entry.member is None or entry.member.user_id != actor.pk:
        raise ClockRefused(_("Only the person who recorded this time can change it."))
    if locked:
        raise ClockRefused(_("This week is approved and locked; only an admin can change it."))
    if entry.source in (Source.ATTENDANCE, Source.ADJUSTMENT):
        raise ClockRefused(_("Workshop attendance is recorded by the facilitator."))
    if entry.status in (Status.SUBMITTED, Status.APPROVED):
        raise ClockRefused(
            _("This entry is %(status)s and can no longer be changed; ask your manager to reopen it.")
            % {"status": entry.get_status_display().lower()}
        )
    return "owner"


def _locked_entry(entry_id: int, version: int | None) -> TimeEntry:
    """The entry, locked after its member's row (see the module docstring)."""
    member_id = TimeEntry.objects.values_list("member_id", flat=True).get(pk=entry_id)
    clock_members_lock(member_ids=[member_id])
    entry = (
        TimeEntry.objects.select_for_update(of=("self",))
        .select_related("member__team__parent", "member__user")
        .get(pk=entry_id)
    )
    if entry.deleted_at is not None:
        raise ClockRefused(_("This entry was deleted."))
    if version is not None and entry.version != int(version):
        raise VersionConflict(
            _(
                "Someone else changed this entry while you were working on it (it is now %(status)s). "
                "Your input is kept below; check it and save again if it still applies."
            )
            % {"status": entry.get_status_display().lower()}
        )
    return entry


def time_entry_update(
    *,
    entry_id: int,
    actor: User,
    version: int,
    activity: str,
    day: dt.date | None = None,
    minutes: int | None = None,
    started_at: dt.datetime | None = None,
    ended_at: dt.datetime | None = None,
    note: str = "",
    request=None,
    now: dt.datetime | None = None,
) -> TimeEntry:
    now = now or timezone.now()
    if activity not in Activity.values:
        raise ClockRefused(_("Choose an activity."))
    with transaction.atomic():
        entry = _locked_entry(entry_id, version)
        member = entry.member
        policy = policy_for(member)
        mode = _editable_by(entry, actor, policy)
        day, minutes = _timed_fields(member, day=day, minutes=minutes, started_at=started_at, ended_at=ended_at)
        _check_basic(member=member, day=day, minutes=minutes, started_at=started_at, ended_at=ended_at, now=now)
        if started_at is not None and _overlapping(member, started_at, ended_at, exclude_pk=entry.pk).exists():
            raise ClockRefused(_("This overlaps another of your timed entries."))
        before = entry.snapshot()
        entry.date, entry.minutes, entry.activity, entry.note = day, minutes, activity, note
        entry.started_at, entry.ended_at = started_at, ended_at
        entry.flag_over_allowance = policy.counts(activity) and _allowance_flag(
            member, policy, day, minutes, exclude_pk=entry.pk
        )
        entry.flag_timer_capped = False
        if mode == "owner" and entry.status == Status.REJECTED:
            entry.status = Status.DRAFT
        entry.version += 1
        entry.save()
        _history(entry, actor=actor, action="edited" if mode == "owner" else "admin_edited", before=before)
        if mode == "admin":
            audit_record(
                action=TIME_ADMIN_EDITED, actor=actor, obj=entry, before=before, after=entry.snapshot(), request=request
            )
    return entry


def time_entry_delete(*, entry_id: int, actor: User, version: int | None = None, request=None) -> TimeEntry:
    """Soft delete: the row stays (with its history), it just stops counting."""
    with transaction.atomic():
        entry = _locked_entry(entry_id, version)
        mode = _editable_by(entry, actor, policy_for(entry.member))
        before = entry.snapshot()
        entry.deleted_at = timezone.now()
        entry.version += 1
        entry.save(update_fields=["deleted_at", "version", "updated_at"])
        _history(entry, actor=actor, action="deleted", before=before)
        if mode == "admin":
            audit_record(
                action=TIME_ADMIN_EDITED, actor=actor, obj=entry, before=before, after=entry.snapshot(), request=request
            )
    return entry


def time_entry_confirm(*, entry_id: int, actor: User) -> TimeEntry:
    """The member confirms the minutes of a timer stopped at the limit."""
    with transaction.atomic():
        entry = _locked_entry(entry_id, None)
        if entry.member is None or entry.member.user_id != actor.pk:
            raise ClockRefused(_("Only the person who recorded this time can confirm it."))
        before = entry.snapshot()
        entry.flag_timer_capped = False
        entry.version += 1
        entry.save(update_fields=["flag_timer_capped", "version", "updated_at"])
        _history(entry, actor=actor, action="confirmed", before=before)
    return entry


def week_submit(*, member: Member, week_start: dt.date, actor: User) -> int:
    """Submit the member's drafts of one week; returns how many.

    When the member's policy needs no approval, submitting approves at once:
    each entry's history shows "submitted" by the member, then
    "approved_by_policy" with no actor, and the entry has no approver. Such a
    week is not locked (a lock is a manager's approval of the whole week), so
    the member can still add and submit time in it."""
    with transaction.atomic():
        member = _lock_member(member)
        policy = policy_for(member)
        week_start = policy.week_start(week_start)
        entries = list(
            TimeEntry.objects.live().of(member).in_week(week_start).filter(status=Status.DRAFT).select_for_update()
        )
        for entry in entries:
            before = entry.snapshot()
            entry.status = Status.SUBMITTED
            entry.version += 1
            entry.save(update_fields=["status", "version", "updated_at"])
            _history(entry, actor=actor, action="submitted", before=before)
            if not policy.approval_required:
                _approve_by_policy(entry)
    return len(entries)


def _approve_by_policy(entry: TimeEntry) -> None:
    before = entry.snapshot()
    entry.status = Status.APPROVED
    entry.rejection_reason = ""
    entry.approved_by = None
    entry.approver_email = ""
    entry.approved_at = timezone.now()
    entry.version += 1
    entry.save()
    _history(
        entry,
        actor=None,
        action="approved_by_policy",
        before=before,
        reason=_("The clock policy needs no approval."),
    )


# --- Approval ------------------------------------------------------------------


def _require_approver(entry: TimeEntry, actor: User) -> None:
    if not can_approve(actor, entry.member):
        raise ClockRefused(_("You do not approve this person's time."))


def _lock_week_if_done(*, member: Member, day: dt.date, actor: User, policy: ClockPolicy, request=None) -> bool:
    if not policy.lock_approved_weeks:
        return False
    start = policy.week_start(day)
    week = TimeEntry.objects.live().of(member).in_week(start)
    if week.exclude(status=Status.APPROVED).exists() or not week.exists():
        return False
    lock, created = ClockWeekLock.objects.get_or_create(member=member, week_start=start, defaults={"locked_by": actor})
    if created:
        audit_record(
            action=WEEK_LOCK_CHANGED,
            actor=actor,
            obj=lock,
            before={"locked": False},
            after={"locked": True, "week_start": start.isoformat(), "member": member.pk},
            request=request,
        )
    return created


def time_entry_approve(*, entry_id: int, actor: User, version: int | None = None) -> TimeEntry:
    with transaction.atomic():
        entry = _locked_entry(entry_id, version)
        _require_approver(entry, actor)
        if entry.status != Status.SUBMITTED:
            raise ClockRefused(_("Only submitted time can be approved."))
        _approve(entry, actor)
    return entry


def _approve(entry: TimeEntry, actor: User) -> None:
    before = entry.snapshot()
    entry.status = Status.APPROVED
    entry.rejection_reason = ""
    entry.approved_by = actor
    entry.approver_email = actor.email
    entry.approved_at = timezone.now()
    entry.version += 1
    entry.save()
    _history(entry, actor=actor, action="approved", before=before)


def _reject(entry: TimeEntry, actor: User, reason: str) -> None:
    before = entry.snapshot()
    entry.status = Status.REJECTED
    entry.rejection_reason = reason
    entry.approved_by = actor
    entry.approver_email = actor.email
    entry.approved_at = timezone.now()
    entry.version += 1
    entry.save()
    _history(entry, actor=actor, action="rejected", before=before, reason=reason)


def _rejection_email(*, member: Member, entries: list[TimeEntry], reason: str, actor: User) -> None:
    lines = [
        _("%(name)s did not approve this time:") % {"name": actor.display_name},
        "",
        *[f"- {e.date:%Y-%m-%d} {format_minutes(e.minutes)} {e.get_activity_display()}" for e in entries],
        "",
        _("Reason: %(reason)s") % {"reason": reason},
        "",
        _("You can correct the entries on your timesheet and submit them again."),
    ]
    key = "clock-rejected-" + "-".join(f"{e.pk}.{e.version}" for e in entries)
    email_enqueue(
        to=member.user.email,
        kind="clock_rejected",
        subject=_("Time not approved: %(reason)s") % {"reason": reason[:80]},
        body_text="\n".join(lines),
        idempotency_key=key[:200],
        user=member.user,
    )


def time_entry_reject(*, entry_id: int, actor: User, reason: str, version: int | None = None) -> TimeEntry:
    reason = (reason or "").strip()
    if not reason:
        raise ClockRefused(_("Give a reason so the person knows what to change."))
    with transaction.atomic():
        entry = _locked_entry(entry_id, version)
        _require_approver(entry, actor)
        if entry.status != Status.SUBMITTED:
            raise ClockRefused(_("Only submitted time can be rejected."))
        _reject(entry, actor, reason)
        _rejection_email(member=entry.member, entries=[entry], reason=reason, actor=actor)
    return entry


def entries_bulk_approve(*, entry_ids: Iterable[int], actor: User, request=None) -> int:
    """Approve the submitted entries among `entry_ids` that `actor` approves."""
    approved = 0
    entry_ids = list(entry_ids)
    with transaction.atomic():
        # Their members first: a week is locked below, and the member's own
        # writes (adding, editing, submitting) hold the same row lock.
        clock_members_lock(member_ids=TimeEntry.objects.filter(pk__in=entry_ids).values_list("member_id", flat=True))
        entries = list(
            TimeEntry.objects.live()
            .filter(pk__in=entry_ids, status=Status.SUBMITTED)
            .select_related("member__team", "member__user")
            .select_for_update(of=("self",))
            .order_by("pk")
        )
        touched = {}
        tree = TeamTree.load()
        policies = {p.team_id: p for p in ClockPolicy.objects.all()}
        for entry in entries:
            if not can_approve(actor, entry.member, tree=tree):
                continue
            _approve(entry, actor)
            policy = policy_for(entry.member, policies=policies, tree=tree)
            touched[(entry.member_id, policy.week_start(entry.date))] = (entry.member, policy)
            approved += 1
        for (_member_id, week_start), (member, policy) in touched.items():
            _lock_week_if_done(member=member, day=week_start, actor=actor, policy=policy, request=request)
    return approved


def week_approve(*, member: Member, week_start: dt.date, actor: User, request=None) -> int:
    week_start = policy_for(member).week_start(week_start)
    ids = TimeEntry.objects.live().of(member).in_week(week_start).filter(status=Status.SUBMITTED)
    return entries_bulk_approve(entry_ids=list(ids.values_list("pk", flat=True)), actor=actor, request=request)


def week_reject(*, member: Member, week_start: dt.date, actor: User, reason: str) -> int:
    reason = (reason or "").strip()
    if not reason:
        raise ClockRefused(_("Give a reason so the person knows what to change."))
    if not can_approve(actor, member):
        raise ClockRefused(_("You do not approve this person's time."))
    week_start = policy_for(member).week_start(week_start)
    with transaction.atomic():
        member = _lock_member(member)
        entries = list(
            TimeEntry.objects.live().of(member).in_week(week_start).filter(status=Status.SUBMITTED).select_for_update()
        )
        for entry in entries:
            _reject(entry, actor, reason)
        if entries:
            _rejection_email(member=member, entries=entries, reason=reason, actor=actor)
    return len(entries)


def time_entry_reopen(*, entry_id: int, actor: User, reason: str, request=None) -> TimeEntry:
    """A manager (or admin) sends a submitted or approved entry back to draft
    so its owner can correct it. Recorded in the history and the audit log."""
    reason = (reason or "").strip()
    if not reason:
        raise ClockRefused(_("Give a reason for reopening."))
    with transaction.atomic():
        entry = _locked_entry(entry_id, None)
        _require_approver(entry, actor)
        if entry.status not in (Status.SUBMITTED, Status.APPROVED):
            raise ClockRefused(_("Only submitted or approved time can be reopened."))
        policy = policy_for(entry.member)
        start = policy.week_start(entry.date)
        lock = ClockWeekLock.objects.filter(member=entry.member, week_start=start).first()
        if lock is not None:
            if not actor.is_staff:
                raise ClockRefused(_("This week is approved and locked; only an admin can change it."))
            lock.delete()
            audit_record(
                action=WEEK_LOCK_CHANGED,
                actor=actor,
                object_type=ClockWeekLock._meta.label,
                object_id=f"{entry.member_id}:{start.isoformat()}",
                object_repr=f"{entry.member} {start.isoformat()}",
                before={"locked": True},
                after={"locked": False, "reason": reason},
                request=request,
            )
        before = entry.snapshot()
        entry.status = Status.DRAFT
        entry.approved_by = None
        entry.approver_email = ""
        entry.approved_at = None
        entry.version += 1
        entry.save()
        _history(entry, actor=actor, action="reopened", before=before, reason=reason)
        audit_record(
            action=TIME_REOPENED,
            actor=actor,
            obj=entry,
            before=before,
            after={**entry.snapshot(), "reason": reason},
            request=request,
        )
    return entry


def week_lock_set(*, member: Member, week_start: dt.date, locked: bool, actor: User, request=None) -> bool:
    """An admin locks or unlocks a member's week (audited)."""
    if not actor.is_staff:
        raise ClockRefused(_("Only an admin can lock or unlock a week."))
    with transaction.atomic():
        member = _lock_member(member)
        existing = ClockWeekLock.objects.filter(member=member, week_start=week_start).first()
        if locked == (existing is not None):
            return False
        if locked:
            ClockWeekLock.objects.create(member=member, week_start=week_start, locked_by=actor)
        else:
            existing.delete()
        audit_record(
            action=WEEK_LOCK_CHANGED,
            actor=actor,
            object_type=ClockWeekLock._meta.label,
            object_id=f"{member.pk}:{week_start.isoformat()}",
            object_repr=f"{member} {week_start.isoformat()}",
            before={"locked": not locked},
            after={"locked": locked},
            request=request,
        )
    return True


# --- Timer ---------------------------------------------------------------------


def _timer_close(timer: ClockTimer, member: Member, now: dt.datetime) -> TimeEntry:
    """Turn a running timer into a draft entry (capped and flagged at the
    limit). Time is never refused here: overlaps and the allowance are flagged."""
    limit = dt.timedelta(minutes=timer_limit_minutes())
    capped = now - timer.started_at > limit
    end = timer.started_at + limit if capped else now
    minutes = max(1, min(MAX_MINUTES, round((end - timer.started_at).total_seconds() / 60)))
    ended_at = timer.started_at + dt.timedelta(minutes=minutes)
    day = local_date(member, timer.started_at)
    policy = policy_for(member)
    over = policy.counts(timer.activity) and _allowance_flag(member, policy, day, minutes, refuse_allowed=False)
    overlap = _overlapping(member, timer.started_at, ended_at).exists()
    entry = TimeEntry.objects.create(
        member=member,
        team=member.team,
        team_name=member.team.name if member.team else "",
        date=day,
        started_at=timer.started_at,
        ended_at=ended_at,
        minutes=minutes,
        activity=timer.activity,
        note=timer.note,
        source=Source.TIMER,
        flag_over_allowance=over,
        flag_overlap=overlap,
        flag_timer_capped=capped,
        created_by=member.user,
    )
    _history(entry, actor=member.user, action="timer_stopped" if not capped else "timer_capped", before=None)
    timer.delete()
    return entry


def timer_start(
    *, member: Member, activity: str = Activity.SEEK, note: str = "", now: dt.datetime | None = None
) -> tuple[ClockTimer, bool]:
    """Start a timer: returns (the running timer, whether this call started it).

    Starting while a timer runs changes nothing: two tabs, a double click or a
    stale page would otherwise stop the running timer into a phantom 1-minute
    draft. Starts and stops serialize on the member's row, so of two starts at
    the same moment one starts the timer and the other finds it running."""
    now = now or timezone.now()
    if activity not in Activity.values:
        activity = Activity.SEEK
    with transaction.atomic():
        member = _lock_member(member)
        running = ClockTimer.objects.filter(member=member).first()
        if running is not None:
            return running, False
        timer = ClockTimer.objects.create(member=member, started_at=now, activity=activity, note=note[:300])
    return timer, True


def timer_stop(*, member: Member, now: dt.datetime | None = None) -> TimeEntry | None:
    """Stop the running timer (None when none was running)."""
    now = now or timezone.now()
    with transaction.atomic():
        member = _lock_member(member)
        running = ClockTimer.objects.select_for_update().filter(member=member).first()
        if running is None:
            return None
        return _timer_close(running, member, now)


def timers_cap_overdue(*, now: dt.datetime | None = None) -> int:
    """Stop every timer left running past the limit (periodic task)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(minutes=timer_limit_minutes())
    stopped = 0
    for member_id in ClockTimer.objects.filter(started_at__lt=cutoff).values_list("member_id", flat=True):
        member = Member.objects.filter(pk=member_id).first()
        if member is not None and timer_cap_if_overdue(member=member, now=now):
            stopped += 1
    return stopped


def timer_running(member: Member) -> ClockTimer | None:
    """The member's running timer; one that ran past the limit is stopped at
    the limit first (and then there is none)."""
    timer = ClockTimer.objects.filter(member_id=member.pk).first()
    if timer is not None and (timezone.now() - timer.started_at).total_seconds() > timer_limit_minutes() * 60:
        timer_cap_if_overdue(member=member)
        return None
    return timer


def timer_cap_if_overdue(*, member: Member, now: dt.datetime | None = None) -> TimeEntry | None:
    now = now or timezone.now()
    cutoff = now - dt.timedelta(minutes=timer_limit_minutes())
    with transaction.atomic():
        member = _lock_member(member)
        running = ClockTimer.objects.select_for_update().filter(member=member, started_at__lt=cutoff).first()
        if running is None:
            return None
        return _timer_close(running, member, now)


# --- Workshop attendance -----------------------------------------------------------


def time_entry_record_attendance(*, registration, session, minutes: int | None, actor: User):
    """One approved Workshop entry per attended session, kept in step with the
    attendance mark: `minutes` is the time the mark counts (0 or None when the
    person was not there; workshops decide that from the mark's status). Never
    refused: over the allowance it is flagged; an overlapping entry of the
    member's own is kept and flagged; a change in a locked week becomes an
    adjustment entry in the current week. Called by workshops'
    `attendance_mark` inside its transaction (the clock knows nothing of
    attendance marks)."""
    wanted = min(int(minutes or 0), MAX_MINUTES)
    member = _lock_member(registration.member)
    related = list(
        TimeEntry.objects.live()
        .filter(member=member, session=session, source__in=(Source.ATTENDANCE, Source.ADJUSTMENT))
        .select_for_update()
    )
    base = next((e for e in related if e.source == Source.ATTENDANCE), None)
    # A soft-deleted base keeps the unique slot: bring it back instead of duplicating.
    if base is None:
        base = (
            TimeEntry.objects.filter(member=member, session=session, source=Source.ATTENDANCE)
            .select_for_update()
            .first()
        )
    effective = sum(e.minutes for e in related)
    delta = wanted - effective
    if delta == 0:
        return base
    policy = policy_for(member)
    # Workshop time outside the policy's counted activities uses no allowance.
    counted = policy.counts(Activity.WORKSHOP)
    start_day = local_date(member, session.starts_at)
    now = timezone.now()
    base_locked = week_is_locked(member, base.date if base else start_day, policy)
    if base is not None and not base_locked:
        before = base.snapshot()
        new_minutes = (base.minutes if base.deleted_at is None else 0) + delta
        if new_minutes <= 0:
            base.deleted_at = now
            action = "attendance_removed"
        else:
            base.deleted_at = None
            base.minutes = new_minutes
            base.ended_at = base.started_at + dt.timedelta(minutes=new_minutes)
            action = "attendance_changed"
        base.version += 1
        base.flag_over_allowance = (
            counted
            and base.deleted_at is None
            and _allowance_flag(member, policy, base.date, base.minutes, exclude_pk=base.pk, refuse_allowed=False)
        )
        base.save()
        _history(base, actor=actor, action=action, before=before)
        entry = base
    elif base is None and not base_locked:
        if delta <= 0:
            return None
        entry = TimeEntry.objects.create(
            member=member,
            team=member.team,
            team_name=member.team.name if member.team else "",
            date=start_day,
            started_at=session.starts_at,
            ended_at=session.starts_at + dt.timedelta(minutes=delta),
            minutes=delta,
            activity=Activity.WORKSHOP,
            source=Source.ATTENDANCE,
            workshop_id=session.workshop_id,
            session=session,
            note=str(session.workshop)[:2000],
            status=Status.APPROVED,
            approved_by=actor,
            approver_email=actor.email,
            approved_at=now,
            flag_over_allowance=counted and _allowance_flag(member, policy, start_day, delta, refuse_allowed=False),
            created_by=actor,
        )
        _history(entry, actor=actor, action="attendance_recorded", before=None)
    else:
        today = member_today(member, now)
        entry = TimeEntry.objects.create(
            member=member,
            team=member.team,
            team_name=member.team.name if member.team else "",
            date=today,
            minutes=delta,
            activity=Activity.WORKSHOP,
            source=Source.ADJUSTMENT,
            workshop_id=session.workshop_id,
            session=session,
            adjusts=base,
            note=_("Attendance change for %(workshop)s on %(date)s (that week is locked)")
            % {"workshop": session.workshop, "date": start_day.isoformat()},
            status=Status.APPROVED,
            approved_by=actor,
            approver_email=actor.email,
            approved_at=now,
            flag_over_allowance=counted
            and delta > 0
            and _allowance_flag(member, policy, today, delta, refuse_allowed=False),
            created_by=actor,
        )
        _history(entry, actor=actor, action="attendance_adjusted", before=None)
    if entry.deleted_at is None and entry.started_at is not None:
        for other in _overlapping(member, entry.started_at, entry.ended_at, exclude_pk=entry.pk).select_for_update():
            if other.flag_overlap or other.source != Source.MANUAL and other.source != Source.TIMER:
                continue
            before = other.snapshot()
            other.flag_overlap = True
            other.version += 1
            other.save(update_fields=["flag_overlap", "version", "updated_at"])
            _history(other, actor=actor, action="flagged_overlap", before=before)
    return entry
