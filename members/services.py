"""Workflows that change people: roles, profiles, deactivation."""

import re
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db import transaction

from .models import ROLE_GROUPS, Member, Team, User


def role_groups_ensure() -> dict[str, Group]:
    """Make sure the Facilitators and Leaders groups exist (also done by a data
    migration; this covers tests that flush tables)."""
    return {name: Group.objects.get_or_create(name=name)[0] for name in ROLE_GROUPS}


def role_grant(*, user: User, group_name: str) -> None:
    groups = role_groups_ensure()
    user.groups.add(groups[group_name])
    user.__dict__.pop("_group_names", None)


def role_revoke(*, user: User, group_name: str) -> None:
    user.groups.remove(*Group.objects.filter(name=group_name))
    user.__dict__.pop("_group_names", None)


def member_ensure(*, user: User, display_name: str = "") -> Member:
    """The member profile of a user, created on first use."""
    member, created = Member.objects.get_or_create(
        user=user, defaults={"display_name": display_name or user.email.split("@")[0].replace(".", " ").title()}
    )
    return member


def member_create(
    *,
    email: str,
    password: str | None = None,
    display_name: str = "",
    team: Team | None = None,
    job_title: str = "",
    is_staff: bool = False,
) -> Member:
    """Create a user with a verified email address and their member profile."""
    from allauth.account.models import EmailAddress

    with transaction.atomic():
        user = User.objects.create_user(email=email, password=password, is_staff=is_staff, is_superuser=is_staff)
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        member = member_ensure(user=user, display_name=display_name)
        member.team = team
        member.job_title = job_title
        member.save(update_fields=["team", "job_title"])
    return member


# --- Own pace: sharing, preferences, unsubscribe ------------------------------


def member_sharing_set(*, member: Member, paused: bool) -> Member:
    """The one "pause sharing" switch: paused hides everything the member shares."""
    member.sharing_paused = paused
    member.save(update_fields=["sharing_paused"])
    return member


def member_preferences_update(
    *,
    member: Member,
    digest: str,
    email_opt_outs: list[str],
    quiet_mode: bool,
    time_zone: str,
    introductions_opt_in: bool,
    calendar_invitations: bool,
) -> Member:
    """Save how often and about what plnorg may speak up."""
    from .notifications import OPTIONAL_EMAIL_KINDS

    member.digest = digest
    member.email_opt_outs = [kind for kind in OPTIONAL_EMAIL_KINDS if kind in set(email_opt_outs)]
    member.quiet_mode = quiet_mode
    member.time_zone = time_zone
    member.introductions_opt_in = introductions_opt_in
    member.calendar_invitations = calendar_invitations
    member.full_clean(exclude=["user", "team"])
    member.save(
        update_fields=[
            "digest",
            "email_opt_outs",
            "quiet_mode",
            "time_zone",
            "introductions_opt_in",
            "calendar_invitations",
        ]
    )
    return member


def member_unsubscribe(*, member: Member, kind: str) -> bool:
    """Turn one kind of optional email off (the digest: frequency "off" too).
    Returns False when it was already off. Idempotent."""
    from .notifications import DIGEST, OPTIONAL_EMAIL_KINDS

    if kind not in OPTIONAL_EMAIL_KINDS:
        raise ValueError(f"Unknown optional email kind: {kind!r}")
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        opt_outs = list(member.email_opt_outs or [])
        changed = kind not in opt_outs or (kind == DIGEST and member.digest != Member.Digest.OFF)
        if kind not in opt_outs:
            opt_outs.append(kind)
        member.email_opt_outs = opt_outs
        fields = ["email_opt_outs"]
        if kind == DIGEST:
            member.digest = Member.Digest.OFF
            fields.append("digest")
        member.save(update_fields=fields)
    return changed


# --- Offboarding ---------------------------------------------------------------


def user_sessions_end(*, user: User) -> int:
    """Delete every stored session of `user`; returns how many.

    Django's session table has no user column (the user id is inside the
    signed session data), so the rows are read and decoded one by one. That
    is a scan of the table, acceptable for what calls it (offboarding, rare).
    Each session is deleted through the configured session store, so a
    cached_db engine forgets its cached copy too."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import SESSION_KEY

    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    decoder = store_class()
    user_id = str(user.pk)
    rows = store_class.get_model_class().objects.values_list("session_key", "session_data")
    keys = [key for key, data in rows.iterator(chunk_size=500) if decoder.decode(data).get(SESSION_KEY) == user_id]
    for key in keys:
        store_class(session_key=key).delete()
    return len(keys)


def member_deactivate(*, member: Member, actor: User | None = None, replacement: Member | None = None) -> None:
    """The members part of offboarding: the person can no longer sign in by
    any route (password or SSO: both check `is_active`), their sessions are
    ended (the rows deleted, not just refused at the next request), the
    secret feed and calendar URLs of later apps stop working (they check
    `is_active`), and every team they manage is handed to `replacement` (or
    to nobody: admins then approve)."""
    from .audit import TEAM_MANAGER_CHANGED, USER_DEACTIVATED, audit_record

    user = member.user
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False)
        user.is_active = False
        user_sessions_end(user=user)
        for team in Team.objects.select_for_update().filter(manager=user):
            team.manager = replacement.user if replacement is not None else None
            team.save(update_fields=["manager"])
            audit_record(
                action=TEAM_MANAGER_CHANGED,
                actor=actor,
                obj=team,
                before={"manager": user.email},
                after={"manager": replacement.user.email if replacement else None},
            )
        audit_record(action=USER_DEACTIVATED, actor=actor, obj=user)


def member_reactivate(*, member: Member, actor: User | None = None, request=None) -> bool:
    """Let a deactivated person sign in again, as ticking "active" on the
    user in the admin does (the same audit record). What offboarding handed
    over (teams managed, cancelled registrations) stays where it went.
    Returns False when the person was already active."""
    from .audit import USER_REACTIVATED, audit_record

    user = member.user
    with transaction.atomic():
        if not User.objects.filter(pk=user.pk, is_active=False).update(is_active=True):
            return False
        user.is_active = True
        audit_record(
            action=USER_REACTIVATED,
            actor=actor,
            obj=user,
            before={"is_active": False},
            after={"is_active": True},
            request=request,
        )
    return True


# --- Roll-out: invitations and CSV import --------------------------------------

INVITATION_DAYS = 14


class InvitationRefused(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def invitation_send(*, email: str, actor: User | None, team: Team | None = None, display_name: str = ""):
    """Invite someone by email (one pending invitation per address; a second
    call returns the pending one without sending again)."""
    import secrets
    from datetime import timedelta

    from django.conf import settings
    from django.urls import reverse
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from .models import Invitation
    from .outbox import email_enqueue

    email = User.objects.normalize_email(email.strip()).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise InvitationRefused(_("%(email)s already has an account.") % {"email": email})
    pending = Invitation.objects.pending().filter(email__iexact=email).first()
    if pending is not None:
        return pending
    with transaction.atomic():
        invitation = Invitation.objects.create(
            email=email,
            display_name=display_name,
            team=team,
            token=secrets.token_urlsafe(32),
            invited_by=actor,
            expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
        )
        link = settings.SITE_URL + reverse("members:invitation_accept", kwargs={"token": invitation.token})
        inviter = actor.display_name if actor is not None else settings.ORGANIZATION_NAME
        email_enqueue(
            to=email,
            kind="invitation",
            subject=_("%(inviter)s invites you to %(site)s") % {"inviter": inviter, "site": settings.SITE_NAME},
            body_text=_(
                "Hello%(name)s,\n\n%(inviter)s invites you to %(site)s, where %(org)s supports everyone's "
                "personal learning network. Take part at your own pace: you decide what colleagues see.\n\n"
                "Accept the invitation (valid for %(days)d days):\n%(link)s\n"
            )
            % {
                "name": f" {display_name}" if display_name else "",
                "inviter": inviter,
                "site": settings.SITE_NAME,
                "org": settings.ORGANIZATION_NAME,
                "days": INVITATION_DAYS,
                "link": link,
            },
            idempotency_key=f"invitation:{invitation.pk}",
        )
    return invitation


def invitation_accept(*, invitation, user: User) -> None:
    """Mark an invitation used by `user` and give their profile its team and name."""
    from django.utils import timezone

    with transaction.atomic():
        type(invitation).objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
            accepted_at=timezone.now(), accepted_by=user
        )
        member = member_ensure(user=user, display_name=invitation.display_name)
        fields = []
        if invitation.team_id and member.team_id is None:
            member.team_id = invitation.team_id
            fields.append("team")
        if invitation.display_name and not member.display_name:
            member.display_name = invitation.display_name
            fields.append("display_name")
        if fields:
            member.save(update_fields=fields)


CSV_COLUMNS = ("email", "name", "team", "manager email")
# Longest value shown back in the report's email column (the message says why
# the whole value was refused).
CSV_SHOWN_CHARACTERS = 80
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class CSVImportError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class _PlannedInvitation:
    """A row that passed every check, waiting for the import's one transaction."""

    entry: dict
    email: str
    name: str
    team: Team | None
    manager: User | None


def members_import_csv(*, content: bytes | str, actor: User | None) -> list[dict]:
    """Invite people from a CSV (email, name, team, manager email); one report
    row per line: {"line", "email", "outcome", "message"}, the outcome being
    invited, exists (already a member), pending (already invited) or refused.

    Every row is checked before anything is written (lengths against the model
    fields, control characters such as NUL, email syntax, team, manager), then
    the good rows are invited together in one transaction: a bad row is
    refused with the reason and the others are kept, and nobody is invited or
    emailed unless the whole import commits. Raises :class:`CSVImportError`
    when the file as a whole cannot be read (nothing is invited then).
    """
    from django.db.models.functions import Lower
    from django.utils.translation import gettext as _

    from .models import Invitation

    rows = _csv_rows(content)
    # Looked up once for the whole file; values the checks below refuse stay
    # out of the queries (PostgreSQL refuses a NUL even in a WHERE clause).
    emails = {
        value.lower()
        for _line, (email, _name, _team, manager_email) in rows
        for value in (email, manager_email)
        if value and len(value) <= User._meta.get_field("email").max_length and not _CONTROL_CHARACTERS.search(value)
    }
    users = list(User.objects.annotate(key=Lower("email")).filter(key__in=emails))
    existing = {user.email.lower() for user in users}
    managers = {user.email.lower(): user for user in users if user.is_active}
    pending = set(
        Invitation.objects.pending().annotate(key=Lower("email")).filter(key__in=emails).values_list("key", flat=True)
    )
    teams = {team.name.lower(): team for team in Team.objects.select_related("manager")}
    planned_managers: dict[int, User] = {}  # team id -> the manager an earlier good row gives it
    report: list[dict] = []
    planned: list[_PlannedInvitation] = []
    seen: set[str] = set()
    for line, (email, name, team_name, manager_email) in rows:
        entry = {"line": line, "email": _csv_shown(email), "outcome": "refused", "message": ""}
        report.append(entry)
        problem = _csv_value_problem(email=email, name=name, team_name=team_name, manager_email=manager_email)
        if problem:
            entry["message"] = problem
            continue
        email = email.lower()
        if email in seen:
            entry["message"] = _("%(email)s appears twice in the file.") % {"email": email}
            continue
        seen.add(email)
        team = None
        if team_name:
            team = teams.get(team_name.lower())
            if team is None:
                entry["message"] = _("There is no team named “%(team)s”. Known teams: %(teams)s.") % {
                    "team": team_name,
                    "teams": ", ".join(t.name for t in teams.values()),
                }
                continue
        manager = None
        if manager_email:
            manager = managers.get(manager_email.lower())
            if manager is None:
                entry["message"] = _("The manager email %(email)s is not a member.") % {"email": manager_email}
                continue
            if team is None:
                entry["message"] = _("A manager email needs a team.")
                continue
            current = planned_managers.get(team.pk) or team.manager
            if current is not None and current.pk != manager.pk:
                entry["message"] = _("%(manager)s is not the manager of %(team)s (%(current)s is).") % {
                    "manager": manager_email,
                    "team": team.name,
                    "current": current.email,
                }
                continue
        if email in existing:
            entry["outcome"], entry["message"] = "exists", _("Already a member; nothing changed.")
            continue
        if email in pending:
            entry["outcome"] = "pending"
            entry["message"] = _("Already invited; the pending invitation was not sent again.")
            continue
        if manager is not None and team.manager_id is None:
            planned_managers[team.pk] = manager
        planned.append(_PlannedInvitation(entry=entry, email=email, name=name, team=team, manager=manager))
    with transaction.atomic():
        for plan in planned:
            if plan.manager is not None and plan.team.manager_id is None:
                plan.team.manager = plan.manager
                plan.team.save(update_fields=["manager"])
            try:
                invitation_send(email=plan.email, actor=actor, team=plan.team, display_name=plan.name)
            except InvitationRefused:  # signed up since the check
                plan.entry["outcome"], plan.entry["message"] = "exists", _("Already a member; nothing changed.")
                continue
            plan.entry["outcome"], plan.entry["message"] = "invited", _("Invitation sent.")
    return report


def _csv_rows(content: bytes | str) -> list[tuple[int, tuple[str, str, str, str]]]:
    """The file's rows as (line, (email, name, team, manager email)), values trimmed.

    The whole file is read before anything is checked, so a damaged line
    refuses the file without a single invitation.
    """
    import csv
    import io

    from django.utils.translation import gettext as _

    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CSVImportError(_("That file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")) from exc
    if not content.strip():
        raise CSVImportError(
            _("That file is empty. The first line must be: %(expected)s.") % {"expected": ",".join(CSV_COLUMNS)}
        )
    reader = csv.DictReader(io.StringIO(content))
    try:
        headers = {(name or "").strip().lower().replace("_", " "): name for name in (reader.fieldnames or [])}
        missing = [column for column in CSV_COLUMNS if column not in headers]
        if missing:
            raise CSVImportError(
                _("The file is missing the column(s): %(missing)s. The first line must be: %(expected)s.")
                % {"missing": ", ".join(missing), "expected": ",".join(CSV_COLUMNS)}
            )
        rows = []
        for row in reader:
            values = tuple((row.get(headers[column]) or "").strip() for column in CSV_COLUMNS)
            rows.append((reader.line_num, values))
    except csv.Error as exc:
        raise CSVImportError(
            _("Line %(line)d cannot be read as CSV (%(reason)s), so nothing was imported.")
            % {"line": reader.reader.line_num, "reason": exc}  # the line being read, not the last row's
        ) from exc
    return rows


def _csv_value_problem(*, email: str, name: str, team_name: str, manager_email: str) -> str:
    """Why a row's values cannot be stored, in a sentence for the admin ("" if they can).

    Lengths come from the model fields the values go into, so a value the
    database would refuse is refused here, before anything is written.
    """
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email
    from django.utils.translation import gettext as _

    from .models import Invitation

    columns = {
        "email": (email, Invitation._meta.get_field("email").max_length),
        "name": (name, Invitation._meta.get_field("display_name").max_length),
        "team": (team_name, Team._meta.get_field("name").max_length),
        "manager email": (manager_email, User._meta.get_field("email").max_length),
    }
    for column, (value, _limit) in columns.items():
        if _CONTROL_CHARACTERS.search(value):
            return _(
                "The %(column)s column contains a control character (such as a NUL byte or a line break); "
                "remove it and import the file again."
            ) % {"column": column}
    for column, (value, limit) in columns.items():
        if len(value) > limit:
            return _("The %(column)s column is %(length)d characters long; at most %(limit)d are allowed.") % {
                "column": column,
                "length": len(value),
                "limit": limit,
            }
    if not email:
        return _("The email column is empty.")
    try:
        validate_email(email)
    except ValidationError:
        return _("“%(email)s” is not a valid email address.") % {"email": email}
    if manager_email:
        try:
            validate_email(manager_email)
        except ValidationError:
            return _("The manager email “%(email)s” is not a valid email address.") % {"email": manager_email}
    return ""


def _csv_shown(value: str) -> str:
    """A value as the report shows it: control characters visible, long values cut."""
    shown = _CONTROL_CHARACTERS.sub("\ufffd", value)
    return shown if len(shown) <= CSV_SHOWN_CHARACTERS else shown[:CSV_SHOWN_CHARACTERS] + "…"
