"""The email outbox: written in the transaction that causes the email, sent by a
task exactly once, and never lost when the broker is down."""

import hashlib
import time
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from members import audit
from members.models import AuditEvent, OutboundEmail
from members.outbox import SENDING_LEASE, email_enqueue
from members.tasks import send_email, send_pending_emails
from tests.faults.smtp import SmtpServer


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
def test_a_row_stuck_in_sending_is_marked_unknown_after_its_lease_and_never_resent():
    fresh = enqueue("test:fresh")
    stale = enqueue("test:stale", to="ben@example.com")
    OutboundEmail.objects.filter(pk=fresh.pk).update(status="sending", claimed_at=timezone.now(), attempts=1)
    OutboundEmail.objects.filter(pk=stale.pk).update(
        status="sending", claimed_at=timezone.now() - SENDING_LEASE - timedelta(seconds=1), attempts=1
    )

    assert send_pending_emails() == 0
    assert send_email(email_id=stale.pk) is False
    assert send_pending_emails() == 0

    assert mail.outbox == []
    fresh.refresh_from_db(), stale.refresh_from_db()
    assert (fresh.status, fresh.attempts) == ("sending", 1)
    assert (stale.status, stale.attempts) == ("unknown", 1)
    assert stale.last_error == (
        "Sending was interrupted before the server answered (the worker stopped): the message may or may not "
        "have been delivered. It is not sent again automatically; resend it from the admin if it did not arrive."
    )


@pytest.fixture
def smtp(settings):
    """A local SMTP server and the SMTP backend pointed at it (1-second timeout)."""
    servers = []

    def start(**options) -> SmtpServer:
        server = SmtpServer(**options)
        servers.append(server)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", server.port, 1
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.mark.django_db
def test_smtp_delivers_with_the_stable_message_id(smtp):
    server = smtp()
    email = enqueue()

    assert send_email(email_id=email.pk) is True

    expected = f"<{hashlib.sha256(b'test:welcome:1').hexdigest()[:32]}@plnorg>"
    assert server.deliveries() == {expected: 1}
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == ("sent", 1, "")


@pytest.mark.django_db
def test_a_transfer_without_an_answer_is_unknown_not_retried(smtp):
    server = smtp(stall_on=1)
    email = enqueue()

    assert send_email(email_id=email.pk) is False
    assert send_pending_emails() == 0

    assert len(server.deliveries()) == 1  # the server has it; plnorg cannot know
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("unknown", 1)
    assert email.last_error.startswith(
        "Sending was interrupted before the server answered (SMTPServerDisconnected: Connection unexpectedly "
        "closed: timed out): the message may or may not have been delivered."
    )


@pytest.mark.django_db
def test_a_server_refusal_is_retried_by_the_sweep(smtp):
    server = smtp(refuse=True)
    email = enqueue()

    assert send_email(email_id=email.pk) is False

    email.refresh_from_db()
    assert (email.status, email.attempts) == ("pending", 1)
    assert email.last_error == "(554, b'Transaction failed: refused by the drill')"
    server.refuse = False
    assert send_pending_emails() == 1
    assert len(server.deliveries()) == 1
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("sent", 2)


@pytest.mark.django_db
def test_admin_resends_an_unknown_email_deliberately_with_the_same_message_id(
    client_as, smtp, django_capture_on_commit_callbacks
):
    server = smtp(stall_on=1)
    unknown, sent = enqueue("test:unknown"), enqueue("test:sent", to="ben@example.com")
    assert send_email(email_id=unknown.pk) is False  # interrupted: the server has one copy
    server.stall_on = None
    assert send_email(email_id=sent.pk) is True
    admin_client = client_as("admin")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(
            reverse("admin:members_outboundemail_changelist"),
            {"action": "resend", "_selected_action": [unknown.pk, sent.pk]},
            follow=True,
        )

    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        "1 email(s) will be sent again.",
        "1 email(s) were left as they are: only unknown or failed emails can be resent.",
    ]
    assert len(callbacks) == 1  # its sending is queued once the action commits
    unknown.refresh_from_db()
    assert (unknown.status, unknown.attempts) == ("pending", 0)
    assert send_pending_emails() == 1
    unknown.refresh_from_db()
    assert (unknown.status, unknown.attempts) == ("sent", 1)
    message_id = f"<{hashlib.sha256(b'test:unknown').hexdigest()[:32]}@plnorg>"
    assert server.deliveries()[message_id] == 2  # the deliberate resend is recognisably the same message
    event = AuditEvent.objects.get(action=audit.EMAIL_RESENT)
    assert (event.actor_email, event.object_id, event.before["status"], event.after) == (
        "admin@example.com",
        str(unknown.pk),
        "unknown",
        {"status": "pending"},
    )


@pytest.mark.django_db
def test_admin_marks_an_unknown_email_delivered_without_sending_it(client_as):
    unknown, pending = enqueue("test:unknown"), enqueue("test:pending", to="ben@example.com")
    OutboundEmail.objects.filter(pk=unknown.pk).update(status="unknown", attempts=1, last_error="interrupted")

    response = client_as("admin").post(
        reverse("admin:members_outboundemail_changelist"),
        {"action": "mark_delivered", "_selected_action": [unknown.pk, pending.pk]},
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == [
        "1 email(s) marked as delivered.",
        "1 email(s) were left as they are: only unknown emails can be marked.",
    ]
    unknown.refresh_from_db(), pending.refresh_from_db()
    assert (unknown.status, unknown.attempts, pending.status) == ("sent", 1, "pending")
    assert unknown.sent_at is not None
    assert mail.outbox == []
    event = AuditEvent.objects.get(action=audit.EMAIL_MARKED_DELIVERED)
    assert (event.actor_email, event.before, event.after) == (
        "admin@example.com",
        {"status": "unknown", "last_error": "interrupted"},
        {"status": "sent"},
    )


@pytest.mark.django_db
def test_metrics_count_unknown_emails(settings):
    settings.METRICS_TOKEN = "s3cret-token"
    for n in range(3):
        enqueue(f"test:unknown:{n}")
    OutboundEmail.objects.filter(idempotency_key__startswith="test:unknown").update(status="unknown")
    enqueue("test:pending")

    scrape = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").content.decode()

    assert "plnorg_outbox_unknown 3.0" in scrape.splitlines()
    assert "plnorg_outbox_backlog 1.0" in scrape.splitlines()


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

    # One quick retry (about a second, CELERY_BROKER_TRANSPORT_OPTIONS), not kombu's
    # default of retrying for ever; 5 s leaves room for a loaded CI machine.
    assert elapsed < 5.0
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
