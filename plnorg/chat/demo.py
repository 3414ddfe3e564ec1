"""Demo chat channels for `seed_demo`: one of each way plnorg posts, marked
as demo (shown on the channel pages, never sent to: their deliveries are
written as skipped). Idempotent."""

from __future__ import annotations

from django.db import transaction

from feeds.models import Pick
from members.models import Member
from workshops.models import Workshop

from .encryption import secret_seal
from .models import Channel, Delivery
from .services.delivery import delivery_enqueue

SLACK = "#learning on Slack (demo)"
MATRIX = "#pln on Matrix (demo)"
WORKSHOP = "Blogging to learn on Mattermost (demo)"


@transaction.atomic
def seed_chat(members: dict[str, Member]) -> dict[str, Channel]:
    admin = members["admin"].user
    facilitator = members["facilitator"].user
    channels = {}
    channels["slack"], created = Channel.objects.get_or_create(
        name=SLACK,
        is_demo=True,
        defaults={
            "kind": Channel.Kind.SLACK,
            "webhook_url_sealed": secret_seal("https://hooks.slack.com/services/TDEMO/BDEMO/not-a-real-webhook"),
            "webhook_host": "hooks.slack.com",
            "receives_picks": True,
            "receives_digest": True,
            "receives_workshops": True,
            "created_by": admin,
        },
    )
    channels["matrix"], _created = Channel.objects.get_or_create(
        name=MATRIX,
        is_demo=True,
        defaults={
            "kind": Channel.Kind.MATRIX,
            "matrix_homeserver": "https://matrix.example.org",
            "matrix_room_id": "!pln-demo:example.org",
            "matrix_access_token_sealed": secret_seal("not-a-real-matrix-token"),
            "receives_digest": True,
            "receives_introductions": True,
            "created_by": admin,
        },
    )
    blogging = Workshop.objects.filter(title="Blogging to learn", facilitators=facilitator).first()
    if blogging is not None:
        channels["workshop"], _created = Channel.objects.get_or_create(
            name=WORKSHOP,
            is_demo=True,
            defaults={
                "kind": Channel.Kind.MATTERMOST,
                "workshop": blogging,
                "webhook_url_sealed": secret_seal("https://chat.example.com/hooks/not-a-real-webhook"),
                "webhook_host": "chat.example.com",
                "receives_workshops": True,
                "created_by": facilitator,
            },
        )
    if created:
        # What the channel page lists: the latest picks, skipped as demo.
        for pick in Pick.objects.order_by("-created_at", "-pk")[:3]:
            delivery_enqueue(
                channel=channels["slack"], event=Delivery.Event.PICK, key=f"pick:{pick.pk}", object_id=pick.pk
            )
    return channels
