"""Matrix against a local stand-in of the client-server API's send endpoint:
the bearer token, the transaction id in the path, and a retry after a lost
reply that puts the same transaction id again, so the room shows one event."""

from __future__ import annotations

import pytest
from django.utils import timezone

from plnorg.chat.models import Channel, Delivery
from plnorg.chat.services.delivery import delivery_send
from tests.plnorg.chat.conftest import MATRIX_ROOM, MATRIX_TOKEN
from tests.plnorg.chat.factories import channel_make

pytestmark = pytest.mark.django_db

Status = Delivery.Status


def _matrix_channel(homeserver, **fields) -> Channel:
    fields.setdefault("token", MATRIX_TOKEN)
    fields.setdefault("matrix_room_id", MATRIX_ROOM)
    return channel_make(kind=Channel.Kind.MATRIX, matrix_homeserver=homeserver.base_url, **fields)


@pytest.fixture
def announced_workshop(db):
    from tests.workshops.factories import WorkshopFactory

    return WorkshopFactory(title="Matrix for beginners", capacity=8)


def test_a_lost_reply_is_retried_with_the_same_transaction_id_and_the_room_shows_one_event(
    homeserver, announced_workshop
):
    channel = _matrix_channel(homeserver, receives_workshops=True)
    delivery = Delivery.objects.create(
        channel=channel, event=Delivery.Event.WORKSHOP_NEW, key="workshop:lost", object_id=announced_workshop.pk
    )
    homeserver.lose_replies = 1  # the event is stored, but the reply says 500

    assert delivery_send(delivery_id=delivery.pk) == Status.PENDING
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert delivery_send(delivery_id=delivery.pk) == Status.SENT

    first, second = homeserver.received
    path = f"/_matrix/client/v3/rooms/%21learning%3A127.0.0.1/send/m.room.message/{delivery.idempotency_key}"
    assert (first.method, first.path) == (second.method, second.path) == ("PUT", path)
    assert first.headers["authorization"] == second.headers["authorization"] == f"Bearer {MATRIX_TOKEN}"
    assert first.body == second.body
    assert [event["body"].splitlines()[0] for event in homeserver.events[MATRIX_ROOM]] == [
        "New workshop: Matrix for beginners"
    ]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.http_status) == (Status.SENT, 2, 200)


def test_two_deliveries_are_two_transactions(homeserver, announced_workshop):
    channel = _matrix_channel(homeserver, receives_workshops=True)
    for key in ("workshop:a", "workshop:b"):
        delivery = Delivery.objects.create(
            channel=channel, event=Delivery.Event.WORKSHOP_NEW, key=key, object_id=announced_workshop.pk
        )
        assert delivery_send(delivery_id=delivery.pk) == Status.SENT

    assert len({r.path for r in homeserver.received}) == 2
    assert len(homeserver.events[MATRIX_ROOM]) == 2


def test_a_wrong_token_is_the_homeservers_error_on_the_channel_never_the_token(homeserver, announced_workshop):
    channel = _matrix_channel(homeserver, token="syt_wrong_token_123", receives_workshops=True)
    delivery = Delivery.objects.create(
        channel=channel, event=Delivery.Event.WORKSHOP_NEW, key="workshop:w", object_id=announced_workshop.pk
    )

    assert delivery_send(delivery_id=delivery.pk) == Status.PENDING

    delivery.refresh_from_db()
    channel.refresh_from_db()
    expected = 'The server answered 401: {"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token passed."}'
    assert (delivery.http_status, delivery.detail, channel.last_error) == (401, expected, expected)
    assert homeserver.events[MATRIX_ROOM] == []


def test_a_room_the_bot_is_not_in_is_refused(homeserver, announced_workshop):
    channel = _matrix_channel(homeserver, matrix_room_id="!elsewhere:127.0.0.1", receives_workshops=True)
    delivery = Delivery.objects.create(
        channel=channel, event=Delivery.Event.WORKSHOP_NEW, key="workshop:r", object_id=announced_workshop.pk
    )

    delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.detail == 'The server answered 403: {"errcode": "M_FORBIDDEN", "error": "User not in room"}'


def test_the_secret_a_server_echoes_back_is_redacted(receiver, announced_workshop):
    from tests.plnorg.chat.servers import Reply

    hook = receiver()
    hook.default = Reply(400, f"bad request to {hook.path}".encode())
    channel = channel_make(url=hook.url, receives_workshops=True)
    delivery = Delivery.objects.create(
        channel=channel, event=Delivery.Event.WORKSHOP_NEW, key="workshop:e", object_id=announced_workshop.pk
    )

    delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.detail == "The server answered 400: bad request to [redacted]"


def test_redaction_hides_secrets_and_leaves_short_strings():
    from plnorg.chat.services.delivery import redact

    text = "401 for syt_abcdef123 at https://h.example/hooks/T1/B2/xyz (token t)"
    secrets = ["syt_abcdef123", "https://h.example/hooks/T1/B2/xyz", "/hooks/T1/B2/xyz", "t", ""]

    assert redact(text, secrets) == "401 for [redacted] at [redacted] (token t)"
    assert redact("x" * 2000, []) == "x" * 1000
