"""Each kind's message as it arrives at a local stand-in: the exact JSON body,
method, path and headers, for a pick made through feeds.curation and sent by
the outbox (no mock: the real announcement, delivery, payload and safe
fetcher)."""

from __future__ import annotations

import pytest
from django.conf import settings

from feeds.curation import pick_create
from plnorg.chat.models import Channel, Delivery
from plnorg.chat.services.delivery import delivery_send
from tests.factories import EntryFactory, FeedFactory, SubscriptionFactory
from tests.plnorg.chat.factories import channel_make

pytestmark = pytest.mark.django_db

ZWSP = "\u200b"
TITLE = "Designing <for> trust & @channel"


@pytest.fixture
def picked(facilitator):
    """Make a pick of a shared entry; returns (make, entry)."""
    feed = FeedFactory(title="UX Field Notes")
    SubscriptionFactory(feed=feed, is_shared=True)
    entry = EntryFactory(feed=feed, title=TITLE, link="https://blog.example.net/trust?ref=rss")

    def make():
        return pick_create(member=facilitator, entry=entry, note="Read before Friday's *retro*")

    return make, entry


def _send_one(channel: Channel) -> Delivery:
    delivery = Delivery.objects.get(channel=channel)
    assert delivery_send(delivery_id=delivery.pk) == Delivery.Status.SENT
    delivery.refresh_from_db()
    return delivery


def _common_headers(received) -> dict[str, str]:
    return {name: received.headers.get(name) for name in ("content-type", "user-agent", "authorization")}


def test_slack_block_kit(receiver, picked):
    hook = receiver()
    channel = channel_make(kind=Channel.Kind.SLACK, url=hook.url, receives_picks=True)
    make, entry = picked
    make()

    _send_one(channel)

    [request] = hook.received
    entry_url = f"https://plnorg.example.com/entries/{entry.pk}/"
    assert (request.method, request.path) == ("POST", hook.path)
    assert _common_headers(request) == {
        "content-type": "application/json",
        "user-agent": settings.FETCH_USER_AGENT,
        "authorization": None,
    }
    assert request.json == {
        "text": f"New pick: Designing &lt;for&gt; trust &amp; @channel {entry_url}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": f"New pick: {TITLE}", "emoji": False}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "Read before Friday's *retro*"}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*Source*\nUX Field Notes"},
                    {"type": "mrkdwn", "text": "*Picked by*\nFran Facilitator"},
                ],
            },
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "Open in plnorg"}, "url": entry_url},
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Original post"},
                        "url": "https://blog.example.net/trust?ref=rss",
                    },
                ],
            },
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": "<https://plnorg.example.com|plnorg · Example Organization>"}],
            },
        ],
        "unfurl_links": False,
        "unfurl_media": False,
    }


def test_teams_adaptive_card_in_the_workflow_envelope(receiver, picked):
    hook = receiver()
    hook.default.status = 202  # what a Teams workflow webhook answers
    channel = channel_make(kind=Channel.Kind.TEAMS, url=hook.url, receives_picks=True)
    make, entry = picked
    make()

    delivery = _send_one(channel)

    [request] = hook.received
    entry_url = f"https://plnorg.example.com/entries/{entry.pk}/"
    assert delivery.http_status == 202
    assert (request.method, request.path) == ("POST", hook.path)
    assert _common_headers(request) == {
        "content-type": "application/json",
        "user-agent": settings.FETCH_USER_AGENT,
        "authorization": None,
    }
    open_url = {"type": "Action.OpenUrl", "url": entry_url}
    assert request.json == {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {
                            "type": "RichTextBlock",
                            "inlines": [
                                {
                                    "type": "TextRun",
                                    "text": f"New pick: {TITLE}",
                                    "weight": "Bolder",
                                    "size": "Medium",
                                    "selectAction": open_url,
                                }
                            ],
                        },
                        {
                            "type": "RichTextBlock",
                            "inlines": [{"type": "TextRun", "text": "Read before Friday's *retro*"}],
                        },
                        {
                            "type": "RichTextBlock",
                            "inlines": [
                                {"type": "TextRun", "text": "Source: ", "weight": "Bolder"},
                                {"type": "TextRun", "text": "UX Field Notes"},
                            ],
                        },
                        {
                            "type": "RichTextBlock",
                            "inlines": [
                                {"type": "TextRun", "text": "Picked by: ", "weight": "Bolder"},
                                {"type": "TextRun", "text": "Fran Facilitator"},
                            ],
                        },
                        {
                            "type": "RichTextBlock",
                            "inlines": [
                                {
                                    "type": "TextRun",
                                    "text": "plnorg · Example Organization",
                                    "size": "Small",
                                    "isSubtle": True,
                                }
                            ],
                        },
                    ],
                    "actions": [
                        {"type": "Action.OpenUrl", "title": "Open in plnorg", "url": entry_url},
                        {
                            "type": "Action.OpenUrl",
                            "title": "Original post",
                            "url": "https://blog.example.net/trust?ref=rss",
                        },
                    ],
                },
            }
        ],
    }


def test_mattermost_incoming_webhook(receiver, picked):
    hook = receiver()
    channel = channel_make(kind=Channel.Kind.MATTERMOST, url=hook.url, receives_picks=True)
    make, entry = picked
    make()

    _send_one(channel)

    [request] = hook.received
    entry_url = f"https://plnorg.example.com/entries/{entry.pk}/"
    assert (request.method, request.path) == ("POST", hook.path)
    assert _common_headers(request) == {
        "content-type": "application/json",
        "user-agent": settings.FETCH_USER_AGENT,
        "authorization": None,
    }
    assert request.json == {
        "text": "\n\n".join(
            [
                f"#### [New pick: Designing \\<for\\> trust & @{ZWSP}channel]({entry_url})",
                "Read before Friday's \\*retro\\*",
                "**Source:** UX Field Notes\n**Picked by:** Fran Facilitator",
                f"[Open in plnorg]({entry_url}) · [Original post](<https://blog.example.net/trust?ref=rss>)",
                "_plnorg · Example Organization_",
            ]
        )
    }


def test_generic_webhook_json_and_headers(receiver, picked):
    hook = receiver()
    channel = channel_make(kind=Channel.Kind.WEBHOOK, url=hook.url, receives_picks=True)
    make, entry = picked
    pick = make()

    delivery = _send_one(channel)

    [request] = hook.received
    entry_url = f"https://plnorg.example.com/entries/{entry.pk}/"
    assert delivery.key == f"pick:{pick.pk}"
    assert (request.method, request.path) == ("POST", hook.path)
    assert {
        name: request.headers.get(name)
        for name in ("content-type", "user-agent", "authorization", "idempotency-key", "x-plnorg-event")
    } == {
        "content-type": "application/json",
        "user-agent": settings.FETCH_USER_AGENT,
        "authorization": None,
        "idempotency-key": delivery.idempotency_key,
        "x-plnorg-event": "pick",
    }
    assert request.json == {
        "schema": "plnorg.chat.v1",
        "delivery_id": delivery.idempotency_key,
        "event": "pick",
        "created_at": delivery.created_at.isoformat(),
        "organization": "Example Organization",
        "site_url": "https://plnorg.example.com",
        "title": f"New pick: {TITLE}",
        "url": entry_url,
        "text": "Read before Friday's *retro*",
        "original_url": "https://blog.example.net/trust?ref=rss",
        "facts": [
            {"label": "Source", "value": "UX Field Notes"},
            {"label": "Picked by", "value": "Fran Facilitator"},
        ],
        "items": [],
    }
    assert delivery.idempotency_key.startswith("plnorg-") and len(delivery.idempotency_key) == 39


def test_matrix_room_message_with_formatted_body(homeserver, picked):
    from tests.plnorg.chat.conftest import MATRIX_ROOM, MATRIX_TOKEN

    channel = channel_make(
        kind=Channel.Kind.MATRIX,
        token=MATRIX_TOKEN,
        matrix_homeserver=homeserver.base_url,
        matrix_room_id=MATRIX_ROOM,
        receives_picks=True,
    )
    make, entry = picked
    make()

    delivery = _send_one(channel)

    [request] = homeserver.received
    entry_url = f"https://plnorg.example.com/entries/{entry.pk}/"
    assert request.method == "PUT"
    assert request.path == (
        f"/_matrix/client/v3/rooms/%21learning%3A127.0.0.1/send/m.room.message/{delivery.idempotency_key}"
    )
    assert _common_headers(request) == {
        "content-type": "application/json",
        "user-agent": settings.FETCH_USER_AGENT,
        "authorization": f"Bearer {MATRIX_TOKEN}",
    }
    assert request.json == {
        "msgtype": "m.notice",
        "body": "\n".join(
            [
                f"New pick: Designing <for> trust & @{ZWSP}channel",
                entry_url,
                "",
                "Read before Friday's *retro*",
                "",
                "Source: UX Field Notes",
                "Picked by: Fran Facilitator",
                "",
                "Original post: https://blog.example.net/trust?ref=rss",
                "",
                "plnorg · Example Organization",
            ]
        ),
        "format": "org.matrix.custom.html",
        "formatted_body": (
            f'<h4><a href="{entry_url}">New pick: Designing &lt;for&gt; trust &amp; @{ZWSP}channel</a></h4>'
            "<p>Read before Friday&#x27;s *retro*</p>"
            "<p><strong>Source:</strong> UX Field Notes<br><strong>Picked by:</strong> Fran Facilitator</p>"
            '<p><a href="https://blog.example.net/trust?ref=rss">Original post</a></p>'
            "<p><em>plnorg · Example Organization</em></p>"
        ),
        "m.mentions": {},
    }
    assert homeserver.events[MATRIX_ROOM] == [request.json]
    assert delivery.message["title"] == f"New pick: {TITLE}"
