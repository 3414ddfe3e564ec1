"""The chat outbox: write a delivery with the change, send it from a task.

- **Written in the transaction of the change.** Picks (feeds) and workshops
  (workshops) call ``core.announcements.announce`` inside their transaction;
  ``announcement_receive`` (subscribed in ChatConfig.ready) writes one
  ``Delivery`` per receiving channel there, and queues its sending with
  ``transaction.on_commit``: a rolled-back pick leaves no delivery and
  queues nothing. The weekly digest and the monthly introductions count are
  written by their beat tasks the same way.
- **Sent once.** A delivery's ``key`` is unique per channel, so announcing
  twice writes one row. Sending claims the row with a conditional UPDATE
  (pending -> sending), so a retried task or a second worker finds nothing
  to do; a sent row is never sent again. Its ``idempotency_key`` is the same
  on every attempt: Matrix's transaction id (a repeated PUT returns the first
  event), the generic webhook's ``delivery_id`` and ``Idempotency-Key``.
- **Retried with backoff.** A failure (network, refused address, any non-2xx
  status) puts the row back with ``next_attempt_at`` 1, 2, 4 … 60 minutes
  ahead (longer if the server sent Retry-After), up to MAX_ATTEMPTS; the
  sweep ``chat.send_due_deliveries`` (every minute) sends what is due, and
  also whatever could not be queued while the broker was down.
- **Paused when it keeps failing.** ``CHAT_PAUSE_AFTER_FAILURES`` failures in a
  row pause the channel (its messages wait; after MAX_AGE they expire) and
  email the people who manage it through the email outbox.
- **A worker killed mid-send.** A row left "sending" beyond SENDING_LEASE
  (far longer than a send's deadline) is sent again only where the receiver
  drops repeats itself (Matrix, generic); for Slack, Teams and Mattermost it
  is marked "unknown" instead, since a second copy could appear.
- **Everything through the safe fetcher** (``feeds.fetch.send``): the address
  is checked again, after DNS, at every send. Secrets are decrypted for that
  moment only and redacted from every error kept or logged.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.announcements import PICK_MADE, WORKSHOP_LAST_SEATS, WORKSHOP_PUBLISHED, Announcement
from feeds.curation import picks_visible
from feeds.fetch import FetchError, FetchResult, send
from members.models import User
from members.outbox import email_enqueue

from ..encryption import SecretUnreadable, secret_unseal
from ..models import Channel, Delivery
from ..payloads import JSON, outbound_request
from .channels import channel_admins
from .messages import Withheld, digest_period, message_build, month_period

log = logging.getLogger(__name__)

Status = Delivery.Status
Event = Delivery.Event

MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 60
BACKOFF_MAX_SECONDS = 3600
# Longer than any send can take (the fetcher's deadline is 10 s).
SENDING_LEASE = timedelta(minutes=5)
# A message that could not go out for this long is stale news: it expires.
MAX_AGE = timedelta(days=2)
SWEEP_BUDGET_SECONDS = 60
ERROR_MAX = 1000
DEMO_DETAIL = "Demo channel: plnorg never sends to it."
UNKNOWN_OUTCOME = (
    "The worker stopped while sending this message, so plnorg cannot tell whether it arrived. "
    "It is not sent again: this channel would show a second copy."
)


# --- Writing deliveries -----------------------------------------------------------------


def _queue_send(delivery_id: int) -> None:
    from ..tasks import send_delivery

    try:
        # No publish retries: with the broker down the sweep sends it later.
        send_delivery.apply_async(kwargs={"delivery_id": delivery_id}, retry=False)
    except Exception as exc:  # noqa: BLE001 - any broker failure means "the sweep sends it"
        log.warning("chat: could not queue delivery %s now (%s); the sweep will send it", delivery_id, exc)


def delivery_enqueue(
    *,
    channel: Channel,
    event: str,
    key: str,
    object_id: int | None = None,
    params: dict | None = None,
    queue: bool = True,
) -> Delivery | None:
    """Write one delivery (once per channel and key) inside the caller's
    transaction and queue its sending when that commits. A demo channel's
    delivery is written as skipped and never queued. Returns None when the
    key was delivered (or is waiting) already."""
    defaults = {"event": event, "object_id": object_id, "params": params or {}}
    if channel.is_demo:
        defaults.update(status=Status.SKIPPED, detail=DEMO_DETAIL)
    delivery, created = Delivery.objects.get_or_create(channel=channel, key=key, defaults=defaults)
    if not created:
        return None
    if queue and delivery.status == Status.PENDING and (channel.paused_at is None or event == Event.TEST):
        transaction.on_commit(lambda: _queue_send(delivery.pk))
    return delivery


def receiving(*, event: str, workshop_id: int | None = None):
    """The channels that receive ``event``; a workshop's news goes to the
    organization channels that want workshops and to that workshop's own."""
    organization = Channel.objects.organization()
    if event == Event.PICK:
        return organization.filter(receives_picks=True)
    if event == Event.DIGEST:
        return organization.filter(receives_digest=True)
    if event == Event.INTRODUCTIONS:
        return organization.filter(receives_introductions=True)
    if event in (Event.WORKSHOP_NEW, Event.WORKSHOP_LAST_SEATS):
        own = Channel.objects.filter(workshop_id=workshop_id) if workshop_id else Channel.objects.none()
        return (organization | own).filter(receives_workshops=True)
    raise ValueError(f"No channel subscribes to {event!r}")


def announcement_receive(announcement: Announcement) -> None:
    """The core.announcements listener: a delivery per receiving channel."""
    object_id = announcement.object_id
    if announcement.event == PICK_MADE:
        # An entry the organization cannot see is never announced.
        if not picks_visible().filter(pk=object_id).exists():
            return
        event, key, workshop_id = Event.PICK, f"pick:{object_id}", None
    elif announcement.event == WORKSHOP_PUBLISHED:
        event, key, workshop_id = Event.WORKSHOP_NEW, f"workshop:{object_id}:new", object_id
    elif announcement.event == WORKSHOP_LAST_SEATS:
        event, key, workshop_id = Event.WORKSHOP_LAST_SEATS, f"workshop:{object_id}:last-seats", object_id
    else:
        return
    for channel in receiving(event=event, workshop_id=workshop_id):
        delivery_enqueue(channel=channel, event=event, key=key, object_id=object_id)


def _period_enqueue(*, event: str, key: str, start: datetime, end: datetime) -> int:
    params = {"start": start.isoformat(), "end": end.isoformat()}
    with transaction.atomic():
        return sum(
            delivery_enqueue(channel=channel, event=event, key=key, params=params) is not None
            for channel in receiving(event=event)
        )


def digest_announce(*, now: datetime | None = None) -> int:
    """The weekly digest of last week for every channel that wants it (once
    per channel and week, however often this runs). Returns how many."""
    start, end = digest_period(now=now)
    year, week, _weekday = start.date().isocalendar()
    return _period_enqueue(event=Event.DIGEST, key=f"digest:{year}-W{week:02d}", start=start, end=end)


def introductions_announce(*, now: datetime | None = None) -> int:
    """Last month's introductions count for every channel that wants it."""
    start, end = month_period(now=now)
    return _period_enqueue(event=Event.INTRODUCTIONS, key=f"introductions:{start:%Y-%m}", start=start, end=end)


# --- Sending ---------------------------------------------------------------------------


def backoff_seconds(attempts: int, retry_after_seconds: int | None = None) -> int:
    """The wait after the ``attempts``-th failed attempt: 60 s doubling up to
    an hour, or what the server asked for (Retry-After), up to an hour."""
    delay = min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS)
    if retry_after_seconds:
        delay = max(delay, min(retry_after_seconds, BACKOFF_MAX_SECONDS))
    return delay


REDACT_MIN_LENGTH = 8


def redact(text: str, secrets: list[str]) -> str:
    """``text`` without any of ``secrets`` (nor a webhook address's path and
    query, which carry its secret), cut to ERROR_MAX. Strings shorter than
    REDACT_MIN_LENGTH are left: they hide nothing and replacing them would
    garble the message ("t" in every word)."""
    for secret in sorted((s for s in secrets if len(s) >= REDACT_MIN_LENGTH), key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text[:ERROR_MAX]


def _secrets(channel: Channel) -> dict[str, str]:
    if channel.is_matrix:
        return {"matrix_access_token": secret_unseal(channel.matrix_access_token_sealed)}
    return {"webhook_url": secret_unseal(channel.webhook_url_sealed)}


def _secret_parts(values: dict[str, str]) -> list[str]:
    parts = list(values.values())
    url = values.get("webhook_url", "")
    if "://" in url:
        after_host = url.split("://", 1)[1].partition("/")[2]
        if after_host:
            parts.append("/" + after_host)
    return parts


def _retry_after(result: FetchResult) -> int | None:
    value = result.headers.get("retry-after", "").strip()
    return int(value) if value.isdigit() else None


def _http_error(result: FetchResult) -> str:
    reply = " ".join(result.content[:300].decode("utf-8", "replace").split())
    if 300 <= result.status < 400:
        return _(
            "The server answered %(status)s (a redirect to elsewhere): plnorg posts only to the address saved. "
            "Check the webhook address."
        ) % {"status": result.status}
    if reply:
        return _("The server answered %(status)s: %(reply)s") % {"status": result.status, "reply": reply}
    return _("The server answered %(status)s.") % {"status": result.status}


def _finish(delivery: Delivery, *, claimed_at: datetime, status: str, detail: str = "") -> str:
    Delivery.objects.filter(pk=delivery.pk, status=Status.SENDING, claimed_at=claimed_at).update(
        status=status, detail=detail
    )
    return status


def _pause_for_failures(channel: Channel, *, now: datetime) -> None:
    """Pause ``channel`` (locked by the caller) and tell who manages it."""
    channel.paused_at = now
    channel.paused_reason = _("%(n)d failed messages in a row.") % {"n": channel.consecutive_failures}
    link = settings.SITE_URL + reverse("chat:channel_detail", kwargs={"pk": channel.pk})
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Chat channel paused: %(name)s") % {"name": channel.name}
        body = "\n".join(
            [
                _(
                    "plnorg could not post to the chat channel “%(name)s” (%(kind)s) %(n)d times in a row, so it paused it:"
                )
                % {"name": channel.name, "kind": channel.get_kind_display(), "n": channel.consecutive_failures},
                _("nothing more is sent to it until someone resumes it."),
                "",
                _("The last error: %(error)s") % {"error": channel.last_error},
                "",
                _("Check the channel, send a test message and resume it here:"),
                link,
            ]
        )
    for person in channel_admins(channel):
        email_enqueue(
            to=person.email,
            kind="chat_channel_paused",
            subject=subject,
            body_text=body,
            idempotency_key=f"chat:paused:{channel.pk}:{now.isoformat()}:{person.pk}",
            user=person,
        )


def _failed(
    delivery: Delivery,
    *,
    claimed_at: datetime,
    detail: str,
    http_status: int | None = None,
    retry_after_seconds: int | None = None,
) -> str:
    now = timezone.now()
    final = delivery.event == Event.TEST or delivery.attempts >= MAX_ATTEMPTS
    status = Status.FAILED if final else Status.PENDING
    delay = 0 if final else backoff_seconds(delivery.attempts, retry_after_seconds)
    with transaction.atomic():
        channel = Channel.objects.select_for_update().get(pk=delivery.channel_id)
        updated = Delivery.objects.filter(pk=delivery.pk, status=Status.SENDING, claimed_at=claimed_at).update(
            status=status, next_attempt_at=now + timedelta(seconds=delay), detail=detail, http_status=http_status
        )
        if not updated:
            return Status.SENDING
        channel.last_error, channel.last_error_at = detail, now
        fields = ["last_error", "last_error_at", "updated_at"]
        if delivery.event != Event.TEST:  # a test tells its result on the page; it pauses nothing
            channel.consecutive_failures += 1
            fields.append("consecutive_failures")
            if channel.paused_at is None and channel.consecutive_failures >= settings.CHAT_PAUSE_AFTER_FAILURES:
                _pause_for_failures(channel, now=now)
                fields += ["paused_at", "paused_reason"]
        channel.save(update_fields=fields)
    log.warning(
        "chat: delivery %s to channel %s failed (attempt %s, %s): %s",
        delivery.pk,
        delivery.channel_id,
        delivery.attempts,
        "gave up" if final else f"next in {delay} s",
        detail,
    )
    return status


def _succeeded(delivery: Delivery, *, claimed_at: datetime, result: FetchResult, message: dict) -> str:
    now = timezone.now()
    with transaction.atomic():
        updated = Delivery.objects.filter(pk=delivery.pk, status=Status.SENDING, claimed_at=claimed_at).update(
            status=Status.SENT, sent_at=now, http_status=result.status, detail="", message=message
        )
        if updated:
            Channel.objects.filter(pk=delivery.channel_id).update(last_delivery_at=now, consecutive_failures=0)
    log.info("chat: delivery %s sent to channel %s (%s)", delivery.pk, delivery.channel_id, result.status)
    return Status.SENT


def delivery_send(*, delivery_id: int) -> str | None:
    """Send one delivery if it is due and nobody else is sending it. Returns
    its status afterwards, or None when there was nothing to do (sent
    already, claimed by another worker, not due, its channel paused)."""
    claimed_at = timezone.now()
    claimed = (
        Delivery.objects.due(claimed_at)
        .filter(pk=delivery_id)
        .update(status=Status.SENDING, claimed_at=claimed_at, attempts=F("attempts") + 1)
    )
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("channel").get(pk=delivery_id)
    channel = delivery.channel
    if channel.is_demo:
        return _finish(delivery, claimed_at=claimed_at, status=Status.SKIPPED, detail=DEMO_DETAIL)
    if delivery.event != Event.TEST and delivery.created_at < claimed_at - MAX_AGE:
        return _finish(
            delivery,
            claimed_at=claimed_at,
            status=Status.FAILED,
            detail=_("Not sent: it waited more than two days (the channel was paused or failing)."),
        )
    built = message_build(delivery=delivery)
    if isinstance(built, Withheld):
        return _finish(delivery, claimed_at=claimed_at, status=Status.WITHHELD, detail=built.reason)
    secrets: list[str] = []
    try:
        values = _secrets(channel)
        secrets = _secret_parts(values)
        request = outbound_request(
            kind=channel.kind,
            message=built,
            delivery_id=delivery.idempotency_key,
            created_at=delivery.created_at.isoformat(),
            matrix_homeserver=channel.matrix_homeserver,
            matrix_room_id=channel.matrix_room_id,
            **values,
        )
        result = send(
            request.url, method=request.method, content=request.content, content_type=JSON, headers=request.headers
        )
    except SecretUnreadable as exc:
        return _failed(delivery, claimed_at=claimed_at, detail=str(exc))
    except FetchError as exc:
        return _failed(delivery, claimed_at=claimed_at, detail=redact(str(exc), secrets))
    if 200 <= result.status < 300:
        return _succeeded(delivery, claimed_at=claimed_at, result=result, message=built.as_dict())
    return _failed(
        delivery,
        claimed_at=claimed_at,
        detail=redact(_http_error(result), secrets),
        http_status=result.status,
        retry_after_seconds=_retry_after(result),
    )


def deliveries_recover_stale(*, now: datetime | None = None) -> int:
    """Rows left "sending" by a worker that died: sent again where the
    receiver drops repeats (Matrix, generic), "unknown" elsewhere."""
    now = now or timezone.now()
    stale = Delivery.objects.filter(status=Status.SENDING, claimed_at__lt=now - SENDING_LEASE)
    idempotent = (Channel.Kind.MATRIX, Channel.Kind.WEBHOOK)
    retried = stale.filter(channel__kind__in=idempotent, attempts__lt=MAX_ATTEMPTS).update(
        status=Status.PENDING, next_attempt_at=now
    )
    unknown = stale.update(status=Status.UNKNOWN, detail=UNKNOWN_OUTCOME)
    if retried or unknown:
        log.warning("chat: %s interrupted deliveries sent again, %s marked unknown", retried, unknown)
    return retried + unknown


def deliveries_send_due(*, budget_seconds: float = SWEEP_BUDGET_SECONDS, limit: int = 500) -> int:
    """The sweep: recover interrupted rows, then send what is due, oldest
    first, within ``budget_seconds``. A channel that fails once is left alone
    for the rest of the sweep. Returns how many were sent."""
    deliveries_recover_stale()
    rows = list(Delivery.objects.due().order_by("next_attempt_at", "pk").values_list("pk", "channel_id")[:limit])
    deadline = time.monotonic() + budget_seconds
    failing: set[int] = set()
    sent = 0
    for delivery_id, channel_id in rows:
        if time.monotonic() > deadline:
            break
        if channel_id in failing:
            continue
        status = delivery_send(delivery_id=delivery_id)
        if status == Status.SENT:
            sent += 1
        elif status in (Status.PENDING, Status.FAILED):
            failing.add(channel_id)
    return sent


def channel_test_send(*, channel: Channel, actor: User) -> Delivery:
    """The "send a test message" button: a test delivery, sent at once (not
    queued), so the page can tell the result. It is sent even to a paused
    channel and, failing, pauses nothing."""
    with transaction.atomic():
        delivery = delivery_enqueue(channel=channel, event=Event.TEST, key=f"test:{uuid.uuid4().hex}", queue=False)
    delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


def deliveries_purge(*, now: datetime | None = None) -> int:
    """Finished deliveries older than OUTBOX_RETENTION_DAYS (what was posted
    is in the chat itself)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    done = (Status.SENT, Status.FAILED, Status.UNKNOWN, Status.WITHHELD, Status.SKIPPED)
    deleted, _counts = Delivery.objects.filter(created_at__lt=cutoff, status__in=done).delete()
    return deleted
