"""People: users, teams, member profiles, roles and the email outbox."""

import zoneinfo
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

FACILITATORS = "Facilitators"
LEADERS = "Leaders"
ROLE_GROUPS = (FACILITATORS, LEADERS)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A login. Email is the identifier; there is no username.

    `is_staff` is reserved for admins. Facilitators and leaders are ordinary
    users in the Facilitators / Leaders groups.
    """

    email = models.EmailField(_("email address"), unique=True)
    is_staff = models.BooleanField(
        _("admin"), default=False, help_text=_("Admins configure the organization and use the Django admin.")
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Deactivated users cannot sign in by any route.")
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def in_group(self, name: str) -> bool:
        # Cached per instance: role checks run several times per request.
        if self.__dict__.get("_group_names") is None:
            self._roles_load()
        return name in self.__dict__["_group_names"]

    def _roles_load(self) -> None:
        """The user's group names and whether they manage a team, in one query
        (a UNION of the two lookups): the permission map and the navigation
        ask both on every page. Services that change roles drop the cache
        (``_group_names``), and both are read again."""
        names: set[str] = set()
        manages = False
        if self.pk is not None:
            groups = self.groups.order_by().values_list("name", flat=True)
            # NULL stands for "manages a team" (a group's name is never NULL).
            manager = Value(None, output_field=models.CharField())
            teams = Team.objects.filter(manager_id=self.pk).order_by().values_list(manager, flat=True)
            for name in groups.union(teams, all=True):
                if name is None:
                    manages = True
                else:
                    names.add(name)
        self.__dict__["_group_names"] = names
        self.__dict__["_is_manager"] = manages

    @property
    def is_facilitator(self) -> bool:
        return self.in_group(FACILITATORS)

    @property
    def is_leader(self) -> bool:
        return self.in_group(LEADERS)

    @property
    def is_manager(self) -> bool:
        # Cached per instance, like the groups: the permission map and the
        # navigation both ask on every page.
        if self.__dict__.get("_group_names") is None:  # _roles_load sets both, and dropping it drops both
            self._roles_load()
        return self.__dict__["_is_manager"]

    @property
    def display_name(self) -> str:
        member = getattr(self, "member", None)
        return member.display_name if member and member.display_name else self.email.split("@")[0]


class Team(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
        help_text=_("Approves the team's PLN time. Their own time goes to the parent team's manager."),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        ancestor = self.parent
        while ancestor is not None:
            if ancestor.pk == self.pk:
                raise ValidationError({"parent": _("A team cannot be inside itself.")})
            ancestor = ancestor.parent


class TeamTree:
    """The whole team tree, read in one query: each team's parent and manager.

    The approval chain is defined here and only here (`approver_id`); the rule
    for one member (`Member.approver_id`) and the list of the members a person
    approves (`MemberQuerySet.approved_by`) both answer through it, at any
    depth and without a query per level or per member. A cycle (which
    `Team.clean` refuses, but old rows may hold) ends the walk."""

    def __init__(self, rows: Iterable[tuple[int, int | None, int | None]]):
        self.parent_of: dict[int, int | None] = {}
        self.manager_of: dict[int, int | None] = {}
        for team_id, parent_id, manager_id in rows:
            self.parent_of[team_id] = parent_id
            self.manager_of[team_id] = manager_id

    @classmethod
    def load(cls) -> "TeamTree":
        return cls(Team.objects.order_by().values_list("pk", "parent_id", "manager_id"))

    def lineage(self, team_id: int | None) -> list[int]:
        """The team's id, then its parent's, up to the top team."""
        chain: list[int] = []
        while team_id is not None and team_id in self.parent_of and team_id not in chain:
            chain.append(team_id)
            team_id = self.parent_of[team_id]
        return chain

    def approver_id(self, *, team_id: int | None, user_id: int | None) -> int | None:
        """Who approves the time of `user_id` in team `team_id`: the nearest
        manager up the chain (the team's own first) who is not that person;
        None: nobody above, an admin approves. So a manager's own time goes to
        the next manager up, however many levels that is."""
        for lineage_team_id in self.lineage(team_id):
            manager_id = self.manager_of[lineage_team_id]
            if manager_id is not None and manager_id != user_id:
                return manager_id
        return None

    @property
    def manager_ids(self) -> set[int]:
        return {manager_id for manager_id in self.manager_of.values() if manager_id is not None}


class MemberQuerySet(models.QuerySet):
    def active(self) -> "MemberQuerySet":
        return self.filter(user__is_active=True)

    def approved_by(self, user_id: int, *, tree: TeamTree | None = None) -> "MemberQuerySet":
        """The members whose approver (`TeamTree.approver_id`) is `user_id`.

        Whoever manages no team in their own chain has the same approver as
        everyone in their team, so whole teams are chosen by the tree; the few
        members who manage a team in their chain (managers) are decided one
        by one. Two small queries, whatever the depth or the head count."""
        tree = tree or TeamTree.load()
        teams = [team_id for team_id in tree.parent_of if tree.approver_id(team_id=team_id, user_id=None) == user_id]
        mine, not_mine = set(), set()
        for pk, team_id, member_user_id in self.model.objects.filter(user_id__in=tree.manager_ids).values_list(
            "pk", "team_id", "user_id"
        ):
            approver = tree.approver_id(team_id=team_id, user_id=member_user_id)
            (mine if approver == user_id else not_mine).add(pk)
        return self.filter(models.Q(team_id__in=teams) | models.Q(pk__in=mine)).exclude(pk__in=not_mine)


class Member(models.Model):
    """The profile of one person in the organization (one per user)."""

    class Digest(models.TextChoices):
        OFF = "off", _("No digest")
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="member")
    display_name = models.CharField(_("display name"), max_length=120, blank=True)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    bio = models.TextField(_("bio"), blank=True, max_length=2000)
    interests = models.CharField(
        _("interests"), max_length=300, blank=True, help_text=_("Comma-separated topics, e.g. data, teaching.")
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    # Own pace: how often plnorg may speak up. Quiet defaults.
    digest = models.CharField(_("digest"), max_length=8, choices=Digest.choices, default=Digest.OFF)
    email_opt_outs = models.JSONField(
        _("optional emails turned off"), default=list, blank=True, help_text=_("Kinds of optional email not wanted.")
    )
    quiet_mode = models.BooleanField(
        _("quiet mode"), default=False, help_text=_("Hides nudges and badges. Never silences a chosen digest.")
    )
    sharing_paused = models.BooleanField(
        _("sharing paused"), default=False, help_text=_("Hides everything this member shares from colleagues.")
    )
    introductions_opt_in = models.BooleanField(_("can be suggested for introductions"), default=False)
    calendar_invitations = models.BooleanField(
        _("calendar invitations"),
        default=True,
        help_text=_(
            "Workshop confirmations, changes and cancellations arrive as calendar invitations that calendars add, "
            "move and remove. Off: no new invitations (a calendar file to add yourself instead); events already "
            "in the calendar are still moved or removed."
        ),
    )
    onboarded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        ordering = ["display_name"]
        verbose_name = _("member")
        verbose_name_plural = _("members")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return Member.name_of(self.display_name, self.user.email)

    @staticmethod
    def name_of(display_name: str, email: str) -> str:
        """What ``name`` is, from the two columns it reads (for rows read
        without building Member and User instances)."""
        return display_name or email.split("@")[0]

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    def clean(self) -> None:
        if self.time_zone not in zoneinfo.available_timezones():
            raise ValidationError({"time_zone": _("Unknown time zone.")})

    def approver_id(self, *, tree: TeamTree | None = None) -> int | None:
        """Who approves this member's time (see `TeamTree.approver_id`): their
        team's manager, or, for the manager themself, the next manager up;
        None means an admin."""
        return (tree or TeamTree.load()).approver_id(team_id=self.team_id, user_id=self.user_id)

    def approver(self) -> "User | None":
        approver_id = self.approver_id()
        return None if approver_id is None else User.objects.get(pk=approver_id)


class OutboundEmail(models.Model):
    """The email outbox. Each email is written here in the same transaction as
    the change that caused it and sent by a task, so a broker outage or a task
    retry neither loses nor duplicates mail (idempotency_key is unique).

    Sending is at most once (members/outbox.py): a send interrupted where the
    server may have taken the message ends in UNKNOWN, never sent again unless
    an admin chooses to."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Unknown: interrupted mid-send, review before resending")

    to = models.EmailField(_("recipient"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )
    kind = models.CharField(_("kind"), max_length=60, help_text=_("e.g. account_verification, digest"))
    idempotency_key = models.CharField(max_length=200, unique=True)
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    attachments = models.JSONField(
        default=list, blank=True, help_text=_("List of {filename, content, mimetype} (text content only).")
    )
    alternatives = models.JSONField(
        default=list,
        blank=True,
        help_text=_(
            "More versions of the body beside the text and HTML: list of {content, mimetype}; the mimetype may "
            "carry parameters, e.g. text/calendar; method=REQUEST for a calendar invitation."
        ),
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")

    def __str__(self) -> str:
        return f"{self.kind} to {self.to} ({self.status})"


class OrganizationSettings(models.Model):
    """Organization-wide switches admins change in the Django admin (one row).

    People-analytics features can each be switched off; off hides them on
    every page and stops their periodic tasks.
    """

    signup_domains = models.CharField(
        _("extra sign-up domains"),
        max_length=500,
        blank=True,
        help_text=_("Comma-separated, added to the SIGNUP_DOMAINS setting. Empty: only the setting applies."),
    )
    connectors_enabled = models.BooleanField(
        _("connectors"), default=True, help_text=_("Identify members who bridge communities (shown as team counts).")
    )
    introduction_suggestions_enabled = models.BooleanField(
        _("introduction suggestions"),
        default=True,
        help_text=_("Suggest who should meet whom (opted-in members only)."),
    )
    network_figures_enabled = models.BooleanField(
        _("network figures"),
        default=True,
        help_text=_("Network health on the dashboard and the network view (aggregates of shared data)."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("organization settings")
        verbose_name_plural = _("organization settings")

    def __str__(self) -> str:
        return str(_("Organization settings"))

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def get(cls) -> "OrganizationSettings":
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj

    @property
    def signup_domain_list(self) -> list[str]:
        return [d.strip().lower().lstrip("@") for d in self.signup_domains.split(",") if d.strip()]


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit log is append-only.")

    def delete(self):
        raise PermissionError("The audit log is append-only.")


class AuditEvent(models.Model):
    """An append-only record of a sensitive action. Rows are only ever
    inserted (members.audit.audit_record); the model refuses updates and
    deletes, the admin is read-only, and on PostgreSQL a trigger refuses
    UPDATE and DELETE as well."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_email = models.CharField(max_length=254, blank=True, help_text=_("Kept if the actor's account is deleted."))
    action = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_email or 'system'} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit log is append-only.")


class InvitationQuerySet(models.QuerySet):
    def pending(self) -> "InvitationQuerySet":
        return self.filter(accepted_at__isnull=True, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """An admin's invitation to join plnorg, sent by email.

    The link carries `token`; opening it leads to sign-up with the email
    prefilled, then to onboarding. It works until `expires_at`, once.
    """

    email = models.EmailField(_("email address"))
    display_name = models.CharField(_("name"), max_length=120, blank=True)
    team = models.ForeignKey(Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL)
    token = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations_sent"
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitation_accepted"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return self.email

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()
