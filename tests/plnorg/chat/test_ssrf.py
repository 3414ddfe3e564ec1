"""SSRF through the chat doors: the channel form's webhook address and Matrix
homeserver refuse every forbidden address of the fetcher's table (with that
address's own reason), and a channel whose address points at a forbidden
host (saved before, or DNS changed since) sends nothing there: a trap on a
loopback address outside the allowlist sees no request."""

from __future__ import annotations

import pytest
from django.urls import reverse

from plnorg.chat.models import Channel, Delivery
from plnorg.chat.services.delivery import delivery_send
from tests.feeds.test_fetch import FORBIDDEN_URLS
from tests.plnorg.chat.factories import channel_make
from tests.plnorg.chat.servers import Receiver

pytestmark = pytest.mark.django_db

LEGIT_HOST, TRAP_HOST = "127.0.0.2", "127.0.0.9"


@pytest.fixture
def trap(settings):
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = [f"{LEGIT_HOST}/32"]
    server = Receiver(TRAP_HOST)
    yield server
    server.stop()
    assert server.received == [], "the trap saw requests"


@pytest.mark.parametrize(("url", "reason", "_address"), FORBIDDEN_URLS)
def test_the_channel_form_refuses_every_forbidden_address(client_as, trap, url, reason, _address):
    admin = client_as("admin")
    webhook = admin.post(
        reverse("chat:channel_new"),
        {"name": "ssrf", "kind": "webhook", "webhook_url": url + "hook", "receives_picks": "on"},
    )
    matrix = admin.post(
        reverse("chat:channel_new"),
        {
            "name": "ssrf",
            "kind": "matrix",
            "matrix_homeserver": url,
            "matrix_room_id": "!room:example.org",
            "matrix_access_token": "token",
            "receives_picks": "on",
        },
    )

    assert webhook.context["form"].errors == {"webhook_url": [f"plnorg cannot post to that address. {reason}"]}
    assert matrix.context["form"].errors["matrix_homeserver"] == [f"plnorg cannot post to that address. {reason}"]
    assert not Channel.objects.filter(name="ssrf").exists()


@pytest.mark.parametrize("kind", [Channel.Kind.SLACK, Channel.Kind.WEBHOOK, Channel.Kind.MATRIX])
def test_a_saved_channel_pointing_at_a_forbidden_host_sends_nothing_there(trap, kind):
    if kind == Channel.Kind.MATRIX:
        channel = channel_make(kind=kind, token="t", matrix_homeserver=trap.base_url, matrix_room_id="!r:x")
    else:
        channel = channel_make(kind=kind, url=trap.url)
    delivery = Delivery.objects.create(channel=channel, event=Delivery.Event.TEST, key="test:trap")

    assert delivery_send(delivery_id=delivery.pk) == Delivery.Status.FAILED

    delivery.refresh_from_db()
    assert delivery.detail == (
        "That address points back to the server plnorg runs on (a loopback address), so plnorg will not fetch it."
    )
