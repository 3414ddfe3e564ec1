"""The email outbox: write first, send from a task.

`email_enqueue` is called inside the transaction that causes the email, so the
email exists exactly when the change does. `email_send` claims one row with a
conditional UPDATE (so two workers, or a retried task, never both send it) and
talks to SMTP outside any transaction. If the broker is down when the change
commits, the email simply waits: the beat task `members.send_pending_emails`
sweeps pending rows every minute.
"""

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import OutboundEmail

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# A row stuck in "sending" longer than this (a worker died mid-send) is retried.
SENDING_LEASE = timedelta(minutes=10)


def email_enqueue(
    *,
    to: str,
    kind: str,
    subject: str,
    body_text: str,
    idempotency_key: str,
    body_html: str = "",
    user=None,
    headers: dict | None = None,
    attachments: list[dict] | None = None,
    alternatives: list[dict] | None = None,
) -> OutboundEmail:
    """Write an email to the outbox (idempotent per key) and queue its sending
    after the surrounding transaction commits.

    `attachments` are files ({filename, content, mimetype}); `alternatives`
    are more versions of the body ({content, mimetype}), sent in the
    multipart/alternative part beside the text (a calendar invitation's
    `text/calendar; method=REQUEST`). Content is text in both."""
    email, created = OutboundEmail.objects.get_or_create(
        idempotency_key=idempotency_key,
        defaults={
            "to": to,
            "kind": kind,
            "subject": subject[:300],
            "body_text": body_text,
            "body_html": body_html,
            "user": user,
            "headers": headers or {},
            "attachments": attachments or [],
            "alternatives": alternatives or [],
        },
    )
    if created:
        transaction.on_commit(lambda: _queue_send(email.pk))
    return email


def _queue_send(email_id: int) -> None:
    from .tasks import send_email

    try:
        # No publish retries: with the broker down we return at once and the
        # periodic sweep sends the email once the broker is back.
        send_email.apply_async(kwargs={"email_id": email_id}, retry=False)
    except Exception as exc:  # noqa: BLE001 - any broker failure means "later"
        log.warning("outbox: could not queue email %s now (%s); the sweep will send it", email_id, exc)


def _claimable() -> Q:
    stale = timezone.now() - SENDING_LEASE
    return Q(status=OutboundEmail.Status.PENDING) | Q(status=OutboundEmail.Status.SENDING, claimed_at__lt=stale)


def email_send(*, email_id: int) -> bool:
    """Send one outbox email if nobody else has. Returns True if this call sent it."""
    now = timezone.now()
    claimed = OutboundEmail.objects.filter(_claimable(), pk=email_id, attempts__lt=MAX_ATTEMPTS).update(
        status=OutboundEmail.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    email = OutboundEmail.objects.get(pk=email_id)
    message_id = hashlib.sha256(email.idempotency_key.encode()).hexdigest()[:32]
    headers = {"Message-ID": f"<{message_id}@plnorg>", **email.headers}
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to],
        headers=headers,
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    for alternative in email.alternatives:
        message.attach_alternative(alternative["content"], alternative["mimetype"])
    for attachment in email.attachments:
        mimetype = attachment.get("mimetype", "text/plain")
        content = attachment["content"]
        if not mimetype.startswith("text/"):
            content = content.encode("utf-8")  # base64 of the UTF-8 bytes, not of a guessed encoding
        message.attach(attachment["filename"], content, mimetype)
    try:
        message.send()
    except Exception as exc:  # noqa: BLE001 - SMTP errors vary; all mean "retry later"
        status = OutboundEmail.Status.FAILED if email.attempts >= MAX_ATTEMPTS else OutboundEmail.Status.PENDING
        OutboundEmail.objects.filter(pk=email_id).update(status=status, last_error=str(exc)[:2000])
        log.warning("outbox: sending email %s failed: %s", email_id, exc)
        return False
    OutboundEmail.objects.filter(pk=email_id).update(
        status=OutboundEmail.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


def emails_send_pending(*, limit: int = 500) -> int:
    """Send every pending email (the periodic sweep). Returns how many went out."""
    ids = list(
        OutboundEmail.objects.filter(_claimable(), attempts__lt=MAX_ATTEMPTS)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(email_send(email_id=pk) for pk in ids)


def emails_purge_sent(*, older_than_days: int | None = None) -> int:
    days = settings.OUTBOX_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = OutboundEmail.objects.filter(status=OutboundEmail.Status.SENT, sent_at__lt=cutoff).delete()
    return deleted
