"""A feed's subscription at its WebSub hub, and the pushes waiting to be stored.

One `WebSubSubscription` per feed at a time (``feed`` is one-to-one). A
subscription being given up (the feed removed, retired, paused, or moved to
another hub) is detached from its feed (``feed`` empty) and kept, in state
``unsubscribing``, until the hub has confirmed the unsubscription or the lease
has run out anyway: its hub, topic and callback token are all the callback
needs to answer that confirmation.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feeds.models import Feed


class WebSubSubscription(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for the hub to confirm")
        ACTIVE = "active", _("Active")
        FAILED = "failed", _("Failed (polled as usual)")
        UNSUBSCRIBING = "unsubscribing", _("Unsubscribing")

    class Refusal(models.TextChoices):
        UNSIGNED = "unsigned", _("No signature")
        BAD_SIGNATURE = "bad_signature", _("Wrong signature")
        TOO_LARGE = "too_large", _("Too large")

    feed = models.OneToOneField(
        Feed,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="websub",
        help_text=_("Empty once the subscription is being given up."),
    )
    hub_url = models.URLField(_("hub"), max_length=1000)
    topic_url = models.URLField(_("topic"), max_length=1000, help_text=_("The feed's self URL, as the hub knows it."))
    callback_token = models.CharField(
        max_length=64, unique=True, help_text=_("The unguessable last part of the callback URL.")
    )
    # Needed in clear to check each push's HMAC; never shown, logged or exported.
    secret = models.CharField(max_length=128, editable=False)
    state = models.CharField(_("state"), max_length=14, choices=State.choices, default=State.PENDING)
    requested_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When plnorg last sent a (un)subscription request to the hub.")
    )
    verified_at = models.DateTimeField(null=True, blank=True, help_text=_("When the hub last confirmed."))
    lease_seconds = models.PositiveIntegerField(null=True, blank=True, help_text=_("As granted by the hub."))
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    pushes_received = models.PositiveIntegerField(default=0, help_text=_("Correctly signed pushes."))
    pushed_entries = models.PositiveIntegerField(default=0, help_text=_("New entries stored from pushes."))
    last_push_at = models.DateTimeField(null=True, blank=True)
    refused_unsigned = models.PositiveIntegerField(default=0)
    refused_bad_signature = models.PositiveIntegerField(default=0)
    refused_too_large = models.PositiveIntegerField(default=0)
    last_refused_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("WebSub subscription")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "lease_expires_at"], name="websub_state_lease_idx")]

    def __str__(self) -> str:
        return f"{self.topic_url} at {self.hub_url}"

    def is_on(self, now: datetime | None = None) -> bool:
        """Updates arrive by push: verified and within the lease."""
        now = now or timezone.now()
        return self.state == self.State.ACTIVE and self.lease_expires_at is not None and self.lease_expires_at > now

    @property
    def pushes_refused(self) -> int:
        return self.refused_unsigned + self.refused_bad_signature + self.refused_too_large


class WebSubPush(models.Model):
    """A correctly signed push, as received: the callback stores it and a task
    parses and stores its entries (then deletes it), so a request never waits
    for parsing."""

    subscription = models.ForeignKey(WebSubSubscription, on_delete=models.CASCADE, related_name="pushes")
    body = models.BinaryField()
    content_type = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("WebSub push")
        ordering = ["received_at", "id"]

    def __str__(self) -> str:
        return f"push {self.pk} for {self.subscription_id} at {self.received_at:%Y-%m-%d %H:%M:%S}"
