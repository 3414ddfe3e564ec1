"""A real Celery worker (a subprocess on the real Redis, pointed at the test
database) delivers what a committed pick announces, and the periodic sweep,
run by name, sends a delivery that could not be queued. These tests commit
(``transaction=True``) and build their own data."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import transaction

from feeds.curation import pick_create
from members.models import FACILITATORS
from members.services import role_grant
from plnorg.celery import app
from plnorg.chat.models import Channel, Delivery
from tests.factories import MemberFactory, shared_entry
from tests.feeds.test_workers import Worker, wait_for
from tests.plnorg.chat.factories import channel_make
from tests.plnorg.chat.servers import Receiver

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120), pytest.mark.worker]


@pytest.fixture
def worker():
    from feeds.scheduler import _redis

    _redis().delete(settings.CELERY_TASK_DEFAULT_QUEUE)
    process = Worker("chat", concurrency=1).wait_ready()
    yield process
    process.stop()
    _redis().delete(settings.CELERY_TASK_DEFAULT_QUEUE)


@pytest.fixture
def hook(settings):
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.0/8"]
    server = Receiver("127.0.0.1")
    yield server
    server.stop()


def _facilitator():
    member = MemberFactory(display_name="Wendy Worker")
    role_grant(user=member.user, group_name=FACILITATORS)
    return member


def test_a_worker_delivers_a_committed_pick_once(worker, hook):
    channel = channel_make(kind=Channel.Kind.WEBHOOK, url=hook.url, receives_picks=True)
    entry = shared_entry(title="Delivered by a worker")

    with transaction.atomic():
        pick = pick_create(member=_facilitator(), entry=entry, note="From the worker test")

    wait_for(lambda: Delivery.objects.filter(channel=channel, status="sent").exists(), what="the delivery sent")
    delivery = Delivery.objects.get(channel=channel)
    assert (delivery.key, delivery.attempts, delivery.http_status) == (f"pick:{pick.pk}", 1, 200)
    [request] = hook.received
    assert request.headers["idempotency-key"] == delivery.idempotency_key
    assert (request.json["title"], request.json["text"]) == ("New pick: Delivered by a worker", "From the worker test")
    channel.refresh_from_db()
    assert channel.last_delivery_at == delivery.sent_at


def test_the_sweep_run_by_name_sends_what_was_never_queued(worker, hook):
    channel = channel_make(kind=Channel.Kind.SLACK, url=hook.url, receives_picks=True)
    # Written without queueing, as when the broker was down at commit time.
    Delivery.objects.create(channel=channel, event=Delivery.Event.TEST, key="test:sweep")

    app.send_task("chat.send_due_deliveries")

    wait_for(lambda: Delivery.objects.filter(channel=channel, status="sent").exists(), what="the sweep's delivery")
    assert [r.json["blocks"][0]["text"]["text"] for r in hook.received] == ["Test message from plnorg"]
