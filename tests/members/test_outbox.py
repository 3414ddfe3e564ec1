"""The email outbox: written in the transaction that causes the email, sent by a
task exactly once, and never lost when the broker is down."""

import time
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.utils import timezone

from members.models import OutboundEmail
from members.outbox import SENDING_LEASE, email_enqueue
from members.tasks import send_email, send_pending_emails


def enqueue(key: str = "test:welcome:1", to: str = "ana@example.com") -> OutboundEmail:
    return email_enqueue(
        to=to,
        kind="welcome",
        subject="Welcome to plnorg",
        body_text="Hello Ana",
        body_html="<p>Hello Ana</p>",
        idempotency_key=key,
    )


@pytest.fixture
def queue():
    """The test's Celery queue in Redis, emptied before and after."""
    from feeds.scheduler import _redis

    client = _redis()
    client.delete(settings.CELERY_TASK_DEFAULT_QUEUE)
    yield client
    client.delete(settings.CELERY_TASK_DEFAULT_QUEUE)


@pytest.mark.django_db
def test_enqueue_is_idempotent_per_key():
    first = enqueue()
    again = email_enqueue(
        to="other@example.com", kind="welcome", subject="x", body_text="y", idempotency_key=first.idempotency_key
    )

    assert again.pk == first.pk
    assert OutboundEmail.objects.filter(idempotency_key="test:welcome:1").count() == 1
    assert again.to == "ana@example.com"


@pytest.mark.django_db
def test_send_task_run_twice_sends_once():
    email = enqueue()

    first = send_email(email_id=email.pk)
    second = send_email(email_id=email.pk)

    assert (first, second) == (True, False)
    assert len(mail.outbox) == 1
    (message,) = mail.outbox
    assert (message.to, message.subject, message.body) == (["ana@example.com"], "Welcome to plnorg", "Hello Ana")
    assert message.alternatives == [("<p>Hello Ana</p>", "text/html")]
    assert message.extra_headers["Message-ID"].endswith("@plnorg>")
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == ("sent", 1, "")
    assert email.sent_at is not None


@pytest.mark.django_db
def test_alternatives_go_beside_the_text_with_their_parameters_and_files_keep_their_bytes():
    ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nSUMMARY:Caf\u00e9 \u00e0 Z\u00fcrich\r\nEND:VCALENDAR\r\n"
    email = email_enqueue(
        to="ana@example.com",
        kind="invitation",
        subject="Invitation",
        body_text="Hello Ana",
        idempotency_key="test:invitation:1",
        alternatives=[{"content": ics, "mimetype": "text/calendar; method=REQUEST"}],
        attachments=[{"filename": "invite.ics", "content": ics, "mimetype": "application/ics"}],
    )

    assert send_email(email_id=email.pk) is True

    (sent,) = mail.outbox
    message = message_from_bytes(sent.message().as_bytes(), policy=policy.default)
    parts = list(message.walk())
    assert [p.get_content_type() for p in parts] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/calendar",
        "application/ics",
    ]
    calendar, attachment = parts[3], parts[4]
    assert calendar["Content-Type"].params == {"method": "REQUEST", "charset": "utf-8"}
    assert calendar.get_content().replace("\r\n", "\n") == ics.replace("\r\n", "\n")
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content() == ics.encode("utf-8")  # the UTF-8 bytes, not a guessed encoding


@pytest.mark.django_db
def test_an_email_without_alternatives_or_files_stays_text_and_html():
    email = enqueue()

    send_email(email_id=email.pk)

    (sent,) = mail.outbox
    assert [p.get_content_type() for p in sent.message().walk()] == [
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]
    assert OutboundEmail.objects.get(pk=email.pk).alternatives == []


@pytest.mark.django_db
def test_send_task_for_a_missing_row_returns_quietly():
    assert send_email(email_id=987654321) is False
    assert mail.outbox == []


@pytest.mark.django_db
def test_smtp_failure_leaves_the_email_pending_for_the_sweep(settings):
    email = enqueue()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2

    assert send_email(email_id=email.pk) is False

    email.refresh_from_db()
    assert (email.status, email.attempts) == ("pending", 1)
    assert "Connection refused" in email.last_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_pending_emails() == 1
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == ("sent", 2, "")
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_row_stuck_in_sending_is_retried_only_after_its_lease():
    fresh = enqueue("test:fresh")
    stale = enqueue("test:stale", to="ben@example.com")
    OutboundEmail.objects.filter(pk=fresh.pk).update(status="sending", claimed_at=timezone.now())
    OutboundEmail.objects.filter(pk=stale.pk).update(
        status="sending", claimed_at=timezone.now() - SENDING_LEASE - timedelta(seconds=1)
    )

    assert send_pending_emails() == 1

    assert [m.to for m in mail.outbox] == [["ben@example.com"]]
    assert OutboundEmail.objects.get(pk=fresh.pk).status == "sending"
    assert OutboundEmail.objects.get(pk=stale.pk).status == "sent"


@pytest.mark.django_db
def test_nothing_is_queued_before_the_transaction_commits(django_capture_on_commit_callbacks, queue):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enqueue()

    assert len(callbacks) == 1
    assert queue.llen(settings.CELERY_TASK_DEFAULT_QUEUE) == 0


@pytest.mark.django_db(transaction=True)
def test_committed_email_is_queued_on_the_broker(queue):
    with transaction.atomic():
        email = enqueue()

    assert queue.llen(settings.CELERY_TASK_DEFAULT_QUEUE) == 1
    assert OutboundEmail.objects.get(pk=email.pk).status == "pending"


@pytest.mark.timeout(60)
@pytest.mark.django_db(transaction=True)
def test_broker_down_the_email_waits_and_goes_out_later_exactly_once(broker_down, caplog):
    started = time.monotonic()
    with transaction.atomic():
        email = enqueue()
    elapsed = time.monotonic() - started

    assert elapsed < 2.0
    assert OutboundEmail.objects.get(pk=email.pk).status == "pending"
    assert f"outbox: could not queue email {email.pk} now" in caplog.text
    assert mail.outbox == []

    # Later (the broker is back, or not: the sweep talks to the database and SMTP).
    assert send_pending_emails() == 1
    assert send_pending_emails() == 0
    assert send_email(email_id=email.pk) is False

    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("sent", 1)
