"""Chat channels (Slack, Microsoft Teams, Mattermost, Matrix, a generic JSON
webhook) and the outbox of what plnorg posts to them.

A `Channel` is where the organization (or one workshop) hears from plnorg;
its secrets (the incoming-webhook address, the Matrix access token) are
stored encrypted (plnorg/chat/encryption.py) and never shown again. A
`Delivery` is one message for one channel, written in the transaction of
the change it announces and sent by a task (plnorg/chat/services/delivery.py).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ChannelQuerySet(models.QuerySet):
    def manageable_by(self, user) -> ChannelQuerySet:
        """Every channel for admins; for a facilitator, the channels of the
        workshops they facilitate (organization channels are admins' own)."""
        if user.is_staff:
            return self
        if not getattr(user, "is_facilitator", False):
            return self.none()
        return self.filter(workshop__facilitators=user).distinct()

    def organization(self) -> ChannelQuerySet:
        """Channels of the whole organization (not of one workshop)."""
        return self.filter(workshop__isnull=True)


class Channel(models.Model):
    class Kind(models.TextChoices):
        SLACK = "slack", _("Slack (incoming webhook)")
        TEAMS = "teams", _("Microsoft Teams (workflow webhook)")
        MATTERMOST = "mattermost", _("Mattermost (incoming webhook)")
        MATRIX = "matrix", _("Matrix (room)")
        WEBHOOK = "webhook", _("Generic webhook (JSON)")

    name = models.CharField(_("name"), max_length=100, help_text=_("How you recognise it, e.g. “#learning on Slack”."))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    workshop = models.ForeignKey(
        "workshops.Workshop",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="chat_channels",
        verbose_name=_("workshop"),
        help_text=_("Empty: a channel of the whole organization (admins only)."),
    )
    webhook_url_sealed = models.TextField(
        blank=True, editable=False, help_text=_("The incoming-webhook address, encrypted.")
    )
    webhook_host = models.CharField(
        max_length=255, blank=True, editable=False, help_text=_("The webhook's host name, to recognise it.")
    )
    matrix_homeserver = models.URLField(_("Matrix homeserver"), max_length=300, blank=True)
    matrix_room_id = models.CharField(_("Matrix room ID"), max_length=255, blank=True)
    matrix_access_token_sealed = models.TextField(
        blank=True, editable=False, help_text=_("The Matrix access token, encrypted.")
    )
    receives_picks = models.BooleanField(_("picks as they are made"), default=False)
    receives_digest = models.BooleanField(_("a weekly digest of picks and rising topics"), default=False)
    receives_workshops = models.BooleanField(_("new workshops and their last seats"), default=False)
    receives_introductions = models.BooleanField(_("the monthly count of introductions"), default=False)
    is_demo = models.BooleanField(default=False, help_text=_("A demo channel: shown, never sent to."))
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_reason = models.CharField(max_length=300, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_delivery_at = models.DateTimeField(null=True, blank=True, help_text=_("When a message last arrived."))
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ChannelQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("chat channel")
        verbose_name_plural = _("chat channels")

    def __str__(self) -> str:
        return self.name

    @property
    def is_matrix(self) -> bool:
        return self.kind == self.Kind.MATRIX

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    @property
    def has_secret(self) -> bool:
        return bool(self.matrix_access_token_sealed if self.is_matrix else self.webhook_url_sealed)

    @property
    def receives(self) -> list[str]:
        """What it receives, in words (a workshop channel: that workshop's news)."""
        if self.workshop_id is not None:
            return [str(_("this workshop's news: published, last seats"))] if self.receives_workshops else []
        flags = ("receives_picks", "receives_digest", "receives_workshops", "receives_introductions")
        return [str(self._meta.get_field(flag).verbose_name) for flag in flags if getattr(self, flag)]

    @property
    def retries_are_idempotent(self) -> bool:
        """Whether the receiver drops a repeated delivery itself: Matrix keys
        a message by its transaction id, and generic receivers are asked to
        key it by ``delivery_id`` (README). Slack, Teams and Mattermost would
        post a second copy."""
        return self.kind in (self.Kind.MATRIX, self.Kind.WEBHOOK)


class DeliveryQuerySet(models.QuerySet):
    def due(self, now=None) -> DeliveryQuerySet:
        """Waiting and due, for a channel that is not paused (a test message
        goes even to a paused channel: that is how one checks it again)."""
        now = now or timezone.now()
        return self.filter(
            Q(channel__paused_at__isnull=True) | Q(event=Delivery.Event.TEST),
            status=Delivery.Status.PENDING,
            next_attempt_at__lte=now,
        )


class Delivery(models.Model):
    """One message for one channel. ``key`` names what it announces ("pick:12",
    "digest:2026-W48"): unique per channel, so an announcement made twice, a
    retried task or a second worker never makes a second message."""

    class Event(models.TextChoices):
        PICK = "pick", _("A pick")
        DIGEST = "digest", _("Weekly digest")
        WORKSHOP_NEW = "workshop_new", _("New workshop")
        WORKSHOP_LAST_SEATS = "workshop_last_seats", _("Last seats")
        INTRODUCTIONS = "introductions", _("Introductions of the month")
        TEST = "test", _("Test message")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Unknown: interrupted while sending, not sent again")
        WITHHELD = "withheld", _("Not sent: nothing that may be shared")
        SKIPPED = "skipped", _("Not sent: demo channel")

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=24, choices=Event.choices)
    key = models.CharField(max_length=200)
    object_id = models.PositiveBigIntegerField(null=True, blank=True, help_text=_("The pick or workshop it is about."))
    params = models.JSONField(default=dict, blank=True, help_text=_("The period a digest or a count covers."))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    detail = models.TextField(blank=True, help_text=_("The last error, or why it was not sent."))
    message = models.JSONField(default=dict, blank=True, help_text=_("What was sent (built when sending)."))
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("chat delivery")
        verbose_name_plural = _("chat deliveries")
        constraints = [models.UniqueConstraint(fields=["channel", "key"], name="chat_delivery_unique_channel_key")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="chat_delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.key} ({self.status})"

    @property
    def idempotency_key(self) -> str:
        """Stable for the life of the delivery, the same on every retry: the
        Matrix transaction id, the generic webhook's ``delivery_id``."""
        digest = hashlib.sha256(f"{self.channel_id}:{self.key}".encode()).hexdigest()[:32]
        return f"plnorg-{digest}"
