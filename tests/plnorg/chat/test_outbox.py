"""The chat outbox: a delivery is written in the transaction of the change,
sent once, retried with backoff, and a channel that keeps failing is paused
and its admins emailed. Sending goes through the safe fetcher, which
refuses a private address again at send time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from feeds.curation import pick_create
from feeds.models import Pick
from members.models import OutboundEmail, User
from plnorg.chat.models import Channel, Delivery
from plnorg.chat.services.delivery import (
    MAX_ATTEMPTS,
    UNKNOWN_OUTCOME,
    backoff_seconds,
    deliveries_recover_stale,
    deliveries_send_due,
    delivery_send,
)
from tests.factories import shared_entry
from tests.plnorg.chat.factories import channel_make
from tests.plnorg.chat.servers import Reply

pytestmark = pytest.mark.django_db

Status = Delivery.Status


def _deliveries(channel: Channel) -> list[tuple[str, str]]:
    return list(Delivery.objects.filter(channel=channel).values_list("key", "status"))


def test_a_pick_writes_its_delivery_in_its_own_transaction_and_queues_on_commit(
    receiver, facilitator, django_capture_on_commit_callbacks
):
    channel = channel_make(url=receiver().url, receives_picks=True)
    entry = shared_entry(title="Outbox")

    with django_capture_on_commit_callbacks() as callbacks:
        pick = pick_create(member=facilitator, entry=entry)

    assert _deliveries(channel) == [(f"pick:{pick.pk}", Status.PENDING)]
    assert len(callbacks) == 1  # the send task is queued once the pick commits


def test_a_rolled_back_pick_leaves_no_delivery_and_queues_nothing(
    receiver, facilitator, django_capture_on_commit_callbacks
):
    channel = channel_make(url=receiver().url, receives_picks=True)
    entry = shared_entry(title="Rolled back")

    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            pick_create(member=facilitator, entry=entry)
            raise RuntimeError("the request failed after picking")

    assert not Pick.objects.filter(entry=entry).exists()
    assert _deliveries(channel) == []
    assert callbacks == []


def test_picking_twice_writes_one_delivery_and_sending_twice_posts_once(receiver, facilitator):
    hook = receiver()
    channel = channel_make(url=hook.url, receives_picks=True)
    entry = shared_entry(title="Once")
    pick = pick_create(member=facilitator, entry=entry, note="first")
    pick_create(member=facilitator, entry=entry, note="edited note")
    [delivery] = Delivery.objects.filter(channel=channel)

    first = delivery_send(delivery_id=delivery.pk)
    again = delivery_send(delivery_id=delivery.pk)  # a retried task, a second worker

    delivery.refresh_from_db()
    assert (first, again) == (Status.SENT, None)
    assert (delivery.key, delivery.status, delivery.attempts) == (f"pick:{pick.pk}", Status.SENT, 1)
    assert len(hook.received) == 1
    assert hook.received[0].json["text"].startswith("New pick: Once ")


def test_a_500_is_retried_with_exponential_backoff_then_sent(receiver, facilitator):
    hook = receiver().then(Reply(500, b"upstream broke"), Reply(503, b""))
    channel = channel_make(url=hook.url, receives_picks=True)
    pick_create(member=facilitator, entry=shared_entry(title="Retry me"))
    [delivery] = Delivery.objects.filter(channel=channel)

    before = timezone.now()
    assert delivery_send(delivery_id=delivery.pk) == Status.PENDING
    delivery.refresh_from_db()
    channel.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.http_status) == (Status.PENDING, 1, 500)
    assert delivery.detail == "The server answered 500: upstream broke"
    assert before + timedelta(seconds=60) <= delivery.next_attempt_at <= timezone.now() + timedelta(seconds=60)
    assert (channel.consecutive_failures, channel.last_error) == (1, "The server answered 500: upstream broke")
    # Not due yet: nothing happens.
    assert delivery_send(delivery_id=delivery.pk) is None

    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    before = timezone.now()
    assert delivery_send(delivery_id=delivery.pk) == Status.PENDING
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.detail) == (2, "The server answered 503.")
    assert before + timedelta(seconds=120) <= delivery.next_attempt_at <= timezone.now() + timedelta(seconds=120)

    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert delivery_send(delivery_id=delivery.pk) == Status.SENT
    delivery.refresh_from_db()
    channel.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.detail, delivery.http_status) == (Status.SENT, 3, "", 200)
    assert channel.consecutive_failures == 0
    assert channel.last_delivery_at == delivery.sent_at
    assert len(hook.received) == 3
    assert len({r.body for r in hook.received}) == 1  # the same message each time


def test_backoff_doubles_up_to_an_hour_and_honours_retry_after():
    assert [backoff_seconds(n) for n in range(1, 9)] == [60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert backoff_seconds(1, retry_after_seconds=300) == 300
    assert backoff_seconds(3, retry_after_seconds=30) == 240
    assert backoff_seconds(1, retry_after_seconds=86400) == 3600


def test_a_429_waits_as_long_as_the_server_asks(receiver, facilitator):
    hook = receiver().then(Reply(429, b"rate_limited", {"Retry-After": "900"}))
    channel = channel_make(url=hook.url, receives_picks=True)
    pick_create(member=facilitator, entry=shared_entry())
    [delivery] = Delivery.objects.filter(channel=channel)

    before = timezone.now()
    delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert before + timedelta(seconds=900) <= delivery.next_attempt_at <= timezone.now() + timedelta(seconds=900)


def test_gives_up_after_max_attempts(receiver, facilitator, settings):
    settings.CHAT_PAUSE_AFTER_FAILURES = 100
    hook = receiver()
    hook.default = Reply(500, b"down")
    channel = channel_make(url=hook.url, receives_picks=True)
    pick_create(member=facilitator, entry=shared_entry())
    [delivery] = Delivery.objects.filter(channel=channel)

    statuses = []
    for _attempt in range(MAX_ATTEMPTS):
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        statuses.append(delivery_send(delivery_id=delivery.pk))

    delivery.refresh_from_db()
    assert statuses == [Status.PENDING] * (MAX_ATTEMPTS - 1) + [Status.FAILED]
    assert (delivery.status, delivery.attempts) == (Status.FAILED, MAX_ATTEMPTS)
    assert len(hook.received) == MAX_ATTEMPTS


def test_a_channel_failing_n_times_in_a_row_is_paused_and_its_admins_emailed(receiver, facilitator, settings):
    settings.CHAT_PAUSE_AFTER_FAILURES = 3
    hook = receiver()
    hook.default = Reply(404, b"no_service")
    channel = channel_make(name="#learning", url=hook.url, receives_picks=True)
    for n in range(4):
        pick_create(member=facilitator, entry=shared_entry(title=f"Failing {n}"))
    admins = sorted(User.objects.filter(is_staff=True, is_active=True).values_list("email", flat=True))

    sent = deliveries_send_due()  # the sweep leaves a failing channel alone after one failure
    assert (sent, len(hook.received)) == (0, 1)
    for _round in range(3):
        Delivery.objects.filter(channel=channel).update(next_attempt_at=timezone.now())
        deliveries_send_due()

    channel.refresh_from_db()
    assert len(hook.received) == 3  # paused at the third failure: nothing more was tried
    assert channel.paused_at is not None
    assert (channel.consecutive_failures, channel.paused_reason) == (3, "3 failed messages in a row.")
    assert channel.last_error == "The server answered 404: no_service"
    assert Delivery.objects.filter(channel=channel, status=Status.PENDING).count() == 4
    emails = OutboundEmail.objects.filter(kind="chat_channel_paused").order_by("to")
    assert [e.to for e in emails] == admins and admins
    email = emails[0]
    assert email.subject == "Chat channel paused: #learning"
    assert "could not post to the chat channel “#learning” (Slack (incoming webhook)) 3 times in a row" in (
        email.body_text
    )
    assert "The last error: The server answered 404: no_service" in email.body_text
    assert f"https://plnorg.example.com/chat/channels/{channel.pk}/" in email.body_text
    assert hook.path not in email.body_text

    # Paused: even due rows wait.
    Delivery.objects.filter(channel=channel).update(next_attempt_at=timezone.now())
    assert deliveries_send_due() == 0
    assert len(hook.received) == 3


def test_a_workshop_channel_pause_tells_its_facilitators(receiver, facilitator, settings):
    from tests.factories import MemberFactory
    from tests.workshops.factories import WorkshopFactory
    from workshops.services.registration import workshop_register

    settings.CHAT_PAUSE_AFTER_FAILURES = 1
    hook = receiver()
    hook.default = Reply(500, b"")
    workshop = WorkshopFactory(capacity=4, facilitators=[facilitator.user])
    channel = channel_make(kind=Channel.Kind.MATTERMOST, url=hook.url, workshop=workshop, receives_workshops=True)
    member = MemberFactory()
    workshop_register(workshop_id=workshop.pk, member=member, actor=member.user)
    [delivery] = Delivery.objects.filter(channel=channel)

    delivery_send(delivery_id=delivery.pk)

    assert list(OutboundEmail.objects.filter(kind="chat_channel_paused").values_list("to", flat=True)) == [
        facilitator.user.email
    ]


def test_a_private_address_is_refused_at_send_time(receiver, facilitator, settings):
    hook = receiver()
    channel = channel_make(url=hook.url, receives_picks=True)
    pick_create(member=facilitator, entry=shared_entry())
    [delivery] = Delivery.objects.filter(channel=channel)
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = []  # as in production

    assert delivery_send(delivery_id=delivery.pk) == Status.PENDING

    delivery.refresh_from_db()
    assert hook.received == []
    assert delivery.detail == (
        "That address points back to the server plnorg runs on (a loopback address), so plnorg will not fetch it."
    )


def test_a_name_that_resolves_to_a_private_address_at_send_time_is_refused(facilitator, fake_dns, settings, site):
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = []
    fake_dns["hooks.chat.example"] = ["10.1.2.3"]  # it was public when saved; DNS changed since
    channel = channel_make(url="https://hooks.chat.example/services/T1/B2/secret", receives_picks=True)
    pick_create(member=facilitator, entry=shared_entry())
    [delivery] = Delivery.objects.filter(channel=channel)

    delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.detail == "That address is inside a private network, so plnorg will not fetch it."
    assert delivery.status == Status.PENDING


def test_a_redirect_is_not_followed(receiver, facilitator):
    hook = receiver()
    elsewhere = receiver("127.0.0.2")
    hook.default = Reply(307, b"", {"Location": elsewhere.url})
    channel = channel_make(url=hook.url, receives_picks=True)
    pick_create(member=facilitator, entry=shared_entry())
    [delivery] = Delivery.objects.filter(channel=channel)

    delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert (len(hook.received), elsewhere.received) == (1, [])
    assert delivery.detail == (
        "The server answered 307 (a redirect to elsewhere): plnorg posts only to the address saved. "
        "Check the webhook address."
    )


def test_a_worker_killed_mid_send_is_retried_only_where_the_receiver_drops_repeats(receiver):
    hook = receiver()
    slack = channel_make(kind=Channel.Kind.SLACK, url=hook.url, receives_picks=True)
    generic = channel_make(kind=Channel.Kind.WEBHOOK, url=hook.url, receives_picks=True)
    long_ago = timezone.now() - timedelta(minutes=6)
    for channel in (slack, generic):
        Delivery.objects.create(
            channel=channel,
            event=Delivery.Event.TEST,
            key="test:stuck",
            status=Status.SENDING,
            claimed_at=long_ago,
            attempts=1,
        )
    Delivery.objects.create(
        channel=slack, event=Delivery.Event.TEST, key="test:live", status=Status.SENDING, claimed_at=timezone.now()
    )

    assert deliveries_recover_stale() == 2

    rows = {(d.channel_id, d.key): (d.status, d.detail) for d in Delivery.objects.filter(key__startswith="test:")}
    assert rows == {
        (slack.pk, "test:stuck"): (Status.UNKNOWN, UNKNOWN_OUTCOME),
        (generic.pk, "test:stuck"): (Status.PENDING, ""),
        (slack.pk, "test:live"): (Status.SENDING, ""),
    }


def test_a_delivery_waiting_more_than_two_days_expires(receiver, facilitator):
    hook = receiver()
    channel = channel_make(url=hook.url, receives_picks=True)
    pick_create(member=facilitator, entry=shared_entry())
    Delivery.objects.filter(channel=channel).update(created_at=timezone.now() - timedelta(days=3))
    [delivery] = Delivery.objects.filter(channel=channel)

    assert delivery_send(delivery_id=delivery.pk) == Status.FAILED

    delivery.refresh_from_db()
    assert hook.received == []
    assert delivery.detail == "Not sent: it waited more than two days (the channel was paused or failing)."


def test_a_demo_channel_is_never_sent_to(receiver, facilitator):
    hook = receiver()
    channel = channel_make(url=hook.url, receives_picks=True, is_demo=True)
    pick = pick_create(member=facilitator, entry=shared_entry())

    deliveries_send_due()

    assert _deliveries(channel) == [(f"pick:{pick.pk}", Status.SKIPPED)]
    assert hook.received == []


def test_resuming_a_paused_channel_sends_what_waited(receiver, facilitator):
    from plnorg.chat.services.channels import channel_resume

    hook = receiver()
    channel = channel_make(url=hook.url, receives_picks=True, paused_at=timezone.now(), consecutive_failures=5)
    pick_create(member=facilitator, entry=shared_entry(title="Waited"))
    assert deliveries_send_due() == 0

    channel_resume(channel_id=channel.pk, actor=User.objects.filter(is_staff=True).first())

    assert deliveries_send_due() == 1
    channel.refresh_from_db()
    assert (channel.paused_at, channel.consecutive_failures) == (None, 0)
    assert [r.json["blocks"][0]["text"]["text"] for r in hook.received] == ["New pick: Waited"]
