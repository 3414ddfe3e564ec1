"""Per-member read state of the shared stream, and app passwords.

Read state is a marker plus exceptions (see ``services/read_state.py`` for
the rule and why): one ``ReadMarker`` row per member who has read anything,
and a ``ReadMark`` row only where an entry differs from what the marker and
the unread window say. An app password is a separate secret per reading app,
stored as hashes only.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feeds.models import Entry
from members.models import Member


class ReadMarker(models.Model):
    """Everything up to ``read_through_id`` counts as read for this member
    (entry ids grow as entries arrive), unless a ``ReadMark`` says otherwise."""

    member = models.OneToOneField(Member, on_delete=models.CASCADE, primary_key=True, related_name="read_marker")
    read_through_id = models.BigIntegerField(
        _("read through entry"), default=0, help_text=_("Every entry with this id or a lower one counts as read.")
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("read marker")

    def __str__(self) -> str:
        return f"{self.member_id} read through {self.read_through_id}"


class ReadMark(models.Model):
    """One entry read or kept unread where the marker and the unread window
    would say otherwise. Keyed by (member, entry): nothing else is stored."""

    pk = models.CompositePrimaryKey("member_id", "entry_id")
    # The primary key's (member, entry) index serves lookups by member.
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="read_marks", db_index=False)
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="read_marks")
    is_read = models.BooleanField(_("read"))
    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("read mark")

    def __str__(self) -> str:
        return f"{self.member_id} {'read' if self.is_read else 'kept unread'} {self.entry_id}"


class AppPasswordQuerySet(models.QuerySet):
    def usable(self) -> "AppPasswordQuerySet":
        """Not revoked, and the member's account still active."""
        return self.filter(revoked_at__isnull=True, member__user__is_active=True)


class AppPassword(models.Model):
    """A secret a member gives one reading app instead of their account
    password. Shown once when made; only its hashes are kept.

    ``secret_hash`` is the SHA-256 of the password (a random secret of 120
    bits, so a fast hash is enough; it is what ClientLogin looks up).
    ``fever_key_hash`` is the SHA-256 of the Fever ``api_key``, which the
    Fever protocol defines as md5("email:password"): made from the email the
    member had when the password was made."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="app_passwords")
    name = models.CharField(_("name"), max_length=100, help_text=_("Which app or device it is for."))
    secret_hash = models.CharField(max_length=64, unique=True)
    fever_key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = AppPasswordQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("app password")
        verbose_name_plural = _("app passwords")

    def __str__(self) -> str:
        return f"{self.name} ({self.member})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
