"""The email outbox: write first, send from a task, at most once.

`email_enqueue` is called inside the transaction that causes the email, so the
email exists exactly when the change does. `email_send` claims one pending row
with a conditional UPDATE (so two workers, or a retried task, never both send
it), commits it as "sending" with its attempt, and only then talks to SMTP,
outside any transaction. If the broker is down when the change commits, the
email simply waits: the beat task `members.send_pending_emails` sweeps pending
rows every minute.

At most once. Once the message data is on its way to the server, plnorg
cannot tell whether the server took it if the answer never comes: the worker
was killed, the task hit its time limit, the connection broke or timed out. A
resend could then be a duplicate, so such a row is never sent again
automatically:

- an error where the server certainly did not take the message (it could not
  be reached, or it answered with a refusal) puts the row back to "pending";
- an interrupted transfer marks it "unknown";
- a row still "sending" ``SENDING_LEASE`` after its claim (its worker died
  mid-send) is marked "unknown" by the sweep.

"unknown" rows are counted in /metrics and listed in the admin, where an
admin either resends one deliberately (`email_resend`) or records that it did
arrive (`email_mark_delivered`). Every send of
a row carries the same Message-ID, derived from its idempotency key, so even
a deliberate resend can be recognised as the same message by mail servers.
"""

import hashlib
import logging
import smtplib
from contextlib import suppress
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.message import sanitize_address
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import OutboundEmail

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# A row still "sending" this long after its claim was interrupted (a send is
# bounded by EMAIL_TIMEOUT and the task's time limit, minutes below this).
SENDING_LEASE = timedelta(minutes=10)
INTERRUPTED = (
    "Sending was interrupted before the server answered (%s): the message may or may not have been delivered. "
    "It is not sent again automatically; resend it from the admin if it did not arrive."
)
# Answers that prove the server did not take the message: safe to try again.
REFUSALS = (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused, smtplib.SMTPNotSupportedError)


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
) -> OutboundEmail:
    """Write an email to the outbox (idempotent per key) and queue its sending
    after the surrounding transaction commits."""
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


def _message(email: OutboundEmail) -> EmailMultiAlternatives:
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
    for attachment in email.attachments:
        message.attach(attachment["filename"], attachment["content"], attachment.get("mimetype", "text/plain"))
    # Build what the backend builds, so a bad address or part fails here,
    # before anything reaches the server.
    message.message()
    for address in [message.from_email, *message.recipients()]:
        sanitize_address(address, message.encoding or settings.DEFAULT_CHARSET)
    return message


def email_send(*, email_id: int) -> bool:
    """Send one outbox email if nobody else has. Returns True if this call sent it."""
    claimed = OutboundEmail.objects.filter(
        pk=email_id, status=OutboundEmail.Status.PENDING, attempts__lt=MAX_ATTEMPTS
    ).update(status=OutboundEmail.Status.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1)
    if not claimed:
        return False
    email = OutboundEmail.objects.get(pk=email_id)
    try:
        message = _message(email)
        connection = get_connection()
        connection.open()
    except Exception as exc:  # noqa: BLE001 - nothing reached the server: try again later
        _email_retry_later(email, exc)
        return False
    try:
        connection.send_messages([message])
    except REFUSALS as exc:
        _email_retry_later(email, exc)
        return False
    except BaseException as exc:  # a broken transfer, a timeout, the task's time limit: nobody knows
        OutboundEmail.objects.filter(pk=email_id, status=OutboundEmail.Status.SENDING).update(
            status=OutboundEmail.Status.UNKNOWN, last_error=(INTERRUPTED % f"{exc.__class__.__name__}: {exc}")[:2000]
        )
        log.warning("outbox: sending email %s was interrupted (%r); it is left for review, not resent", email_id, exc)
        if isinstance(exc, Exception):
            return False
        raise
    finally:
        with suppress(Exception):  # the message was handed over (or not) already
            connection.close()
    OutboundEmail.objects.filter(pk=email_id).update(
        status=OutboundEmail.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


def _email_retry_later(email: OutboundEmail, exc: Exception) -> None:
    status = OutboundEmail.Status.FAILED if email.attempts >= MAX_ATTEMPTS else OutboundEmail.Status.PENDING
    OutboundEmail.objects.filter(pk=email.pk).update(status=status, last_error=str(exc)[:2000])
    log.warning("outbox: sending email %s failed: %s", email.pk, exc)


def emails_mark_interrupted(*, now=None) -> int:
    """Rows still "sending" ``SENDING_LEASE`` after their claim: the worker
    died mid-send, so whether the server took the message is unknown. They
    become "unknown" (for review), never pending again. Returns how many."""
    cutoff = (now or timezone.now()) - SENDING_LEASE
    interrupted = OutboundEmail.objects.filter(status=OutboundEmail.Status.SENDING, claimed_at__lt=cutoff).update(
        status=OutboundEmail.Status.UNKNOWN, last_error=INTERRUPTED % "the worker stopped"
    )
    if interrupted:
        log.warning("outbox: %d emails were interrupted mid-send; marked unknown for review", interrupted)
    return interrupted


def emails_send_pending(*, limit: int = 500) -> int:
    """Send every pending email (the periodic sweep). Returns how many went out."""
    emails_mark_interrupted()
    ids = list(
        OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING, attempts__lt=MAX_ATTEMPTS)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(email_send(email_id=pk) for pk in ids)


RESENDABLE = (OutboundEmail.Status.UNKNOWN, OutboundEmail.Status.FAILED)


def email_resend(*, email: OutboundEmail, actor=None, request=None) -> bool:
    """An admin's deliberate resend of an "unknown" or "failed" email: it is
    pending again with a fresh set of attempts and the same Message-ID, and
    the decision is in the audit log. False when the email is in another
    state (sent, or already pending)."""
    from . import audit

    with transaction.atomic():
        changed = OutboundEmail.objects.filter(pk=email.pk, status__in=RESENDABLE).update(
            status=OutboundEmail.Status.PENDING, attempts=0, claimed_at=None
        )
        if changed:
            audit.audit_record(
                action=audit.EMAIL_RESENT,
                actor=actor,
                obj=email,
                before={"status": email.status, "attempts": email.attempts, "last_error": email.last_error},
                after={"status": OutboundEmail.Status.PENDING},
                request=request,
            )
            transaction.on_commit(lambda: _queue_send(email.pk))
    return bool(changed)


def email_mark_delivered(*, email: OutboundEmail, actor=None, request=None) -> bool:
    """An admin found that an "unknown" email did arrive (the mail server's
    log, the recipient): it counts as sent from now on, without sending it
    again; audited. False when the email is not "unknown"."""
    from . import audit

    with transaction.atomic():
        changed = OutboundEmail.objects.filter(pk=email.pk, status=OutboundEmail.Status.UNKNOWN).update(
            status=OutboundEmail.Status.SENT, sent_at=timezone.now()
        )
        if changed:
            audit.audit_record(
                action=audit.EMAIL_MARKED_DELIVERED,
                actor=actor,
                obj=email,
                before={"status": email.status, "last_error": email.last_error},
                after={"status": OutboundEmail.Status.SENT},
                request=request,
            )
    return bool(changed)


def emails_purge_sent(*, older_than_days: int | None = None) -> int:
    days = settings.OUTBOX_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = OutboundEmail.objects.filter(status=OutboundEmail.Status.SENT, sent_at__lt=cutoff).delete()
    return deleted
