"""A real Celery worker (in a thread of this process) on the real Redis runs
project tasks whose effect lands in PostgreSQL.

`transaction=True`: the worker's thread has its own database connection and
cannot see rows of an open test transaction, and on_commit never fires inside
one. These tests commit, so they build their own data.
"""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core import mail
from django.db import transaction

from members.models import OutboundEmail
from members.outbox import email_enqueue
from plnorg.celery import app

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120), pytest.mark.worker]


@pytest.fixture
def worker():
    """A solo-pool worker consuming the test's queue (purged first)."""
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    assert app.conf.task_default_queue == queue
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)
    with start_worker(app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=30) as w:
        yield w


def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_worker_sends_an_outbox_email_queued_on_commit(worker):
    with transaction.atomic():
        email = email_enqueue(
            to="ana@example.com",
            kind="welcome",
            subject="Welcome to plnorg",
            body_text="Hello Ana",
            idempotency_key="worker-test:welcome",
        )

    assert wait_for(lambda: OutboundEmail.objects.get(pk=email.pk).status == "sent")

    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == ("sent", 1, "")
    assert [(m.to, m.subject) for m in mail.outbox] == [(["ana@example.com"], "Welcome to plnorg")]


def test_worker_runs_the_sweep_by_name(worker):
    rows = [
        OutboundEmail.objects.create(
            to=f"p{i}@example.com", kind="digest", subject=f"Digest {i}", body_text="...", idempotency_key=f"sweep:{i}"
        )
        for i in range(3)
    ]

    result = app.send_task("members.send_pending_emails")

    assert result.id
    assert wait_for(lambda: OutboundEmail.objects.filter(status="sent").count() == 3)
    assert sorted(m.to[0] for m in mail.outbox) == ["p0@example.com", "p1@example.com", "p2@example.com"]
    assert set(OutboundEmail.objects.filter(pk__in=[r.pk for r in rows]).values_list("attempts", flat=True)) == {1}
