"""Adding, changing, pausing, resuming and removing chat channels.

Who: admins manage every channel; a facilitator manages the channels of the
workshops they facilitate (and adds channels for those workshops only).

Secrets: the webhook address (Slack, Teams, Mattermost, generic) and the
Matrix access token are checked, encrypted (plnorg/chat/encryption.py) and
stored; they are never shown again, never written to the audit log or to
logs (the audit records only whether one was changed). An address that is
not a public internet address is refused here, when it is saved, and again
by the safe fetcher each time a message is sent (DNS may change meanwhile).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from feeds.fetch import FetchError, check_address, is_forbidden_address
from members.audit import audit_record
from members.models import User
from workshops.models import Workshop

from ..encryption import secret_seal
from ..models import Channel, Delivery

CHANNEL_SAVED = "chat.channel_saved"
CHANNEL_DELETED = "chat.channel_deleted"
CHANNEL_PAUSED = "chat.channel_paused"
CHANNEL_RESUMED = "chat.channel_resumed"

TOKEN_MAX = 1000
_MATRIX_ROOM_ID = re.compile(r"![^\s:/]+(:[^\s/]+)?")
_ORGANIZATION_ONLY = ("receives_picks", "receives_digest", "receives_introductions")
_RECEIVES = (*_ORGANIZATION_ONLY, "receives_workshops")


def channel_can_manage(*, user: User, channel: Channel) -> bool:
    return Channel.objects.manageable_by(user).filter(pk=channel.pk).exists()


def address_check(url: str, *, field: str) -> str:
    """A webhook or homeserver address plnorg may post to, stripped, or a
    ValidationError on ``field``: http(s) syntax, every address the name
    resolves to public (the fetcher's policy), and https — the address or
    what is sent to it is a secret — unless it is a network the fetcher is
    explicitly allowed to reach (tests, an intranet)."""
    url = (url or "").strip()
    try:
        addresses = check_address(url)
    except FetchError as exc:
        raise ValidationError({field: _("plnorg cannot post to that address. %(reason)s") % {"reason": exc}}) from exc
    if urlsplit(url).scheme.lower() == "http" and any(
        not is_forbidden_address(ip, allowed_networks=[]) for ip in addresses
    ):
        raise ValidationError(
            {field: _("Use an https:// address: what plnorg sends there must not travel unencrypted.")}
        )
    return url


def matrix_room_check(room_id: str) -> str:
    room_id = (room_id or "").strip()
    if not _MATRIX_ROOM_ID.fullmatch(room_id):
        raise ValidationError(
            {
                "matrix_room_id": _(
                    "Give the room's ID: it starts with “!”, e.g. !AbCdEf:example.org (in Element: the room's "
                    "settings, Advanced). A room alias (#room:example.org) does not work here."
                )
            }
        )
    return room_id


def _token_check(token: str) -> str:
    token = (token or "").strip()
    if len(token) > TOKEN_MAX or any(ch.isspace() or ord(ch) < 32 for ch in token):
        raise ValidationError(
            {"matrix_access_token": _("That is not an access token (no spaces, at most 1,000 characters).")}
        )
    return token


def _audit_fields(channel: Channel) -> dict:
    return {
        "name": channel.name,
        "kind": channel.kind,
        "workshop": channel.workshop_id,
        "webhook_host": channel.webhook_host,
        "matrix_homeserver": channel.matrix_homeserver,
        "matrix_room_id": channel.matrix_room_id,
        **{flag: getattr(channel, flag) for flag in _RECEIVES},
    }


def channel_save(
    *,
    channel: Channel,
    actor: User,
    webhook_url: str = "",
    matrix_access_token: str = "",
) -> Channel:
    """Create or update ``channel`` (its fields already set from the form).
    An empty ``webhook_url`` / ``matrix_access_token`` keeps the saved one.
    Everything is checked before anything is written; a ValidationError
    names the field at fault."""
    if not actor.is_staff:
        if channel.workshop_id is None:
            raise ValidationError({"workshop": _("Choose one of the workshops you facilitate.")})
        if not Workshop.objects.managed_by(actor).filter(pk=channel.workshop_id).exists():
            raise PermissionDenied
    before = None
    previous = None
    if channel.pk is not None:
        previous = Channel.objects.get(pk=channel.pk)
        before = _audit_fields(previous)
    if channel.workshop_id is not None and any(getattr(channel, flag) for flag in _ORGANIZATION_ONLY):
        raise ValidationError(
            _(
                "A workshop's channel receives that workshop's news only: untick picks, the digest and "
                "introductions, or leave the workshop empty for a channel of the whole organization."
            )
        )
    if not any(getattr(channel, flag) for flag in _RECEIVES):
        raise ValidationError(_("Choose at least one thing this channel receives."))
    kind_changed = previous is not None and previous.kind != channel.kind
    if channel.is_matrix:
        channel.matrix_homeserver = address_check(channel.matrix_homeserver, field="matrix_homeserver")
        channel.matrix_room_id = matrix_room_check(channel.matrix_room_id)
        token = _token_check(matrix_access_token)
        if token:
            channel.matrix_access_token_sealed = secret_seal(token)
        elif not channel.matrix_access_token_sealed or kind_changed:
            raise ValidationError({"matrix_access_token": _("Give the access token of the account that posts.")})
        channel.webhook_url_sealed = channel.webhook_host = ""
    else:
        if webhook_url.strip():
            url = address_check(webhook_url, field="webhook_url")
            channel.webhook_url_sealed = secret_seal(url)
            channel.webhook_host = urlsplit(url).hostname or ""
        elif not channel.webhook_url_sealed or kind_changed:
            raise ValidationError({"webhook_url": _("Give the channel's incoming-webhook address.")})
        channel.matrix_homeserver = channel.matrix_room_id = channel.matrix_access_token_sealed = ""
    creating = channel.pk is None
    with transaction.atomic():
        if creating:
            channel.created_by = actor
        channel.save()
        after = _audit_fields(channel)
        after["secret"] = "changed" if (webhook_url.strip() or matrix_access_token.strip()) else "kept"
        audit_record(action=CHANNEL_SAVED, actor=actor, obj=channel, before=before, after=after)
    return channel


def channel_delete(*, channel: Channel, actor: User) -> None:
    with transaction.atomic():
        audit_record(action=CHANNEL_DELETED, actor=actor, obj=channel, before=_audit_fields(channel))
        channel.delete()


def channel_pause(*, channel_id: int, actor: User | None, reason: str) -> Channel:
    """Stop sending to the channel until someone resumes it (messages wait)."""
    with transaction.atomic():
        channel = Channel.objects.select_for_update().get(pk=channel_id)
        if channel.paused_at is None:
            channel.paused_at = timezone.now()
            channel.paused_reason = reason[:300]
            channel.save(update_fields=["paused_at", "paused_reason", "updated_at"])
            audit_record(action=CHANNEL_PAUSED, actor=actor, obj=channel, after={"reason": channel.paused_reason})
    return channel


def channel_resume(*, channel_id: int, actor: User) -> Channel:
    """Send again: the failure count starts over and waiting messages go out
    at the next sweep (those waiting too long have expired meanwhile)."""
    with transaction.atomic():
        channel = Channel.objects.select_for_update().get(pk=channel_id)
        if channel.paused_at is not None:
            channel.paused_at = None
            channel.paused_reason = ""
            channel.consecutive_failures = 0
            channel.save(update_fields=["paused_at", "paused_reason", "consecutive_failures", "updated_at"])
            Delivery.objects.filter(channel=channel, status=Delivery.Status.PENDING).update(
                next_attempt_at=timezone.now()
            )
            audit_record(action=CHANNEL_RESUMED, actor=actor, obj=channel)
    return channel


def channel_admins(channel: Channel) -> list[User]:
    """Who is told about the channel's trouble: for a workshop's channel its
    facilitators, for an organization channel the admins (active ones)."""
    if channel.workshop_id is not None:
        people = channel.workshop.facilitators.filter(is_active=True)
    else:
        people = User.objects.filter(is_staff=True, is_active=True)
    return list(people.order_by("pk"))
