"""A platform-neutral ``Message`` and how each platform says it.

- Slack: an incoming webhook's JSON with Block Kit ``blocks`` (header,
  sections, a button, context) and a ``text`` fallback for notifications.
- Microsoft Teams: an Adaptive Card (1.4) in the envelope the Teams
  "workflow" (Power Automate) webhook expects: ``{"type": "message",
  "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
  "content": card}]}``.
- Mattermost: an incoming webhook's ``{"text": Markdown}``.
- Matrix: an ``m.room.message`` event (``m.notice``, as bots should) with a
  plain ``body`` and ``format: org.matrix.custom.html`` + ``formatted_body``,
  sent with PUT /_matrix/client/v3/rooms/{roomId}/send/m.room.message/{txnId}.
- Generic webhook: plnorg's own JSON (schema ``plnorg.chat.v1``, README).

Titles, notes and source names come from feeds and people, so each format
escapes them for itself: Slack's ``&``, ``<`` and ``>`` (so no ``<!channel>``
or fake link gets through), Markdown punctuation for Mattermost, HTML for
Matrix, plain ``TextRun`` s (never Markdown) in the Teams card. Mentions
that would page a whole room (``@channel``, ``@here``, ``@all``, ``@room``)
are broken with a zero-width space, and a Matrix event carries an empty
``m.mentions`` so that it pings nobody.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import asdict, dataclass, field
from urllib.parse import quote

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from .models import Channel

SCHEMA = "plnorg.chat.v1"
SLACK_HEADER_MAX = 150
SLACK_TEXT_MAX = 3000
SLACK_FIELD_MAX = 2000
SLACK_FIELDS_MAX = 10
ZERO_WIDTH_SPACE = "\u200b"
_ROOM_MENTIONS = re.compile(r"@(channel|here|all|everyone|room)\b", re.IGNORECASE)
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-!|<>~])")


@dataclass(frozen=True)
class Item:
    """One line of a list (a pick in the digest)."""

    title: str
    url: str
    text: str = ""


@dataclass(frozen=True)
class Message:
    """A message for any platform: a title linking back to plnorg, a plain
    text, labelled facts, list items, and a pick's original post."""

    event: str
    title: str
    url: str
    text: str = ""
    facts: list[tuple[str, str]] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    original_url: str = ""

    def as_dict(self) -> dict:
        data = asdict(self)
        data["facts"] = [list(fact) for fact in self.facts]
        return data


@dataclass(frozen=True)
class OutboundRequest:
    """What goes over the wire for one delivery."""

    method: str
    url: str
    headers: dict[str, str]
    body: dict

    @property
    def content(self) -> bytes:
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode()


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _unmention(text: str) -> str:
    return _ROOM_MENTIONS.sub(lambda m: f"@{ZERO_WIDTH_SPACE}{m.group(1)}", text)


def _footer() -> str:
    return f"{settings.SITE_NAME} · {settings.ORGANIZATION_NAME}"


def _open_label() -> str:
    return _("Open in %(site)s") % {"site": settings.SITE_NAME}


# --- Slack (Block Kit) ----------------------------------------------------------


def slack_escape(text: str) -> str:
    """Slack's mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting#escaping)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_link(url: str, label: str) -> str:
    # In <url|label> a "|" or ">" in the label would end it early.
    return f"<{url}|{slack_escape(label).replace('|', '¦')}>"


def slack_payload(message: Message) -> dict:
    blocks: list[dict] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _cut(message.title, SLACK_HEADER_MAX), "emoji": False},
        }
    ]
    if message.text:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": _cut(slack_escape(message.text), SLACK_TEXT_MAX)}}
        )
    if message.items:
        lines = [
            "• " + _slack_link(item.url, item.title) + (f" — {slack_escape(item.text)}" if item.text else "")
            for item in message.items
        ]
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut("\n".join(lines), SLACK_TEXT_MAX)}})
    if message.facts:
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": _cut(f"*{slack_escape(label)}*\n{slack_escape(value)}", SLACK_FIELD_MAX)}
                    for label, value in message.facts[:SLACK_FIELDS_MAX]
                ],
            }
        )
    buttons = [{"type": "button", "text": {"type": "plain_text", "text": _open_label()}, "url": message.url}]
    if message.original_url:
        buttons.append(
            {"type": "button", "text": {"type": "plain_text", "text": _("Original post")}, "url": message.original_url}
        )
    blocks.append({"type": "actions", "elements": buttons})
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _slack_link(settings.SITE_URL, _footer())}]}
    )
    return {
        "text": slack_escape(f"{message.title} {message.url}"),
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }


# --- Microsoft Teams (Adaptive Card in the workflow envelope) -------------------


def _teams_line(*runs: dict) -> dict:
    # RichTextBlock + TextRun: plain text, never read as Markdown.
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", **run} for run in runs]}


def teams_payload(message: Message) -> dict:
    body: list[dict] = [
        _teams_line(
            {
                "text": message.title,
                "weight": "Bolder",
                "size": "Medium",
                "selectAction": {"type": "Action.OpenUrl", "url": message.url},
            }
        )
    ]
    if message.text:
        body.append(_teams_line({"text": message.text}))
    for item in message.items:
        runs = [{"text": item.title, "color": "Accent", "selectAction": {"type": "Action.OpenUrl", "url": item.url}}]
        if item.text:
            runs.append({"text": f" — {item.text}"})
        body.append(_teams_line(*runs))
    for label, value in message.facts:
        body.append(_teams_line({"text": f"{label}: ", "weight": "Bolder"}, {"text": value}))
    body.append(_teams_line({"text": _footer(), "size": "Small", "isSubtle": True}))
    actions = [{"type": "Action.OpenUrl", "title": _open_label(), "url": message.url}]
    if message.original_url:
        actions.append({"type": "Action.OpenUrl", "title": _("Original post"), "url": message.original_url})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": actions,
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


# --- Mattermost (Markdown) --------------------------------------------------------


def markdown_escape(text: str) -> str:
    return _unmention(_MARKDOWN_PUNCTUATION.sub(r"\\\1", text))


def mattermost_payload(message: Message) -> dict:
    parts = [f"#### [{markdown_escape(message.title)}]({message.url})"]
    if message.text:
        parts.append(markdown_escape(message.text))
    if message.items:
        parts.append(
            "\n".join(
                f"- [{markdown_escape(item.title)}]({item.url})"
                + (f" — {markdown_escape(item.text)}" if item.text else "")
                for item in message.items
            )
        )
    if message.facts:
        parts.append(
            "\n".join(f"**{markdown_escape(label)}:** {markdown_escape(value)}" for label, value in message.facts)
        )
    links = f"[{markdown_escape(_open_label())}]({message.url})"
    if message.original_url:
        original = message.original_url.replace("<", "%3C").replace(">", "%3E")
        links += f" · [{markdown_escape(_('Original post'))}](<{original}>)"
    parts.append(links)
    parts.append(f"_{markdown_escape(_footer())}_")
    return {"text": "\n\n".join(parts)}


# --- Matrix (m.room.message) ------------------------------------------------------


def matrix_payload(message: Message) -> dict:
    lines = [message.title, message.url]
    markup = [f'<h4><a href="{html.escape(message.url)}">{html.escape(message.title)}</a></h4>']
    if message.text:
        lines += ["", message.text]
        markup.append(f"<p>{html.escape(message.text)}</p>")
    if message.items:
        lines.append("")
        lines += [f"- {item.title}: {item.url}" + (f" — {item.text}" if item.text else "") for item in message.items]
        markup.append(
            "<ul>"
            + "".join(
                f'<li><a href="{html.escape(item.url)}">{html.escape(item.title)}</a>'
                + (f" — {html.escape(item.text)}" if item.text else "")
                + "</li>"
                for item in message.items
            )
            + "</ul>"
        )
    if message.facts:
        lines.append("")
        lines += [f"{label}: {value}" for label, value in message.facts]
        markup.append(
            "<p>"
            + "<br>".join(
                f"<strong>{html.escape(label)}:</strong> {html.escape(value)}" for label, value in message.facts
            )
            + "</p>"
        )
    if message.original_url:
        lines += ["", f"{_('Original post')}: {message.original_url}"]
        markup.append(f'<p><a href="{html.escape(message.original_url)}">{html.escape(_("Original post"))}</a></p>')
    lines += ["", _footer()]
    markup.append(f"<p><em>{html.escape(_footer())}</em></p>")
    return {
        "msgtype": "m.notice",
        "body": _unmention("\n".join(lines)),
        "format": "org.matrix.custom.html",
        "formatted_body": _unmention("".join(markup)),
        "m.mentions": {},
    }


def matrix_send_url(*, homeserver: str, room_id: str, txn_id: str) -> str:
    """The client-server API's send endpoint for one event; the transaction
    id makes a retried PUT return the first event instead of a second one."""
    return (
        f"{homeserver.rstrip('/')}/_matrix/client/v3/rooms/{quote(room_id, safe='')}"
        f"/send/m.room.message/{quote(txn_id, safe='')}"
    )


# --- Generic webhook (plnorg.chat.v1) -----------------------------------------------


def generic_payload(message: Message, *, delivery_id: str, created_at: str) -> dict:
    return {
        "schema": SCHEMA,
        "delivery_id": delivery_id,
        "event": message.event,
        "created_at": created_at,
        "organization": settings.ORGANIZATION_NAME,
        "site_url": settings.SITE_URL,
        "title": message.title,
        "url": message.url,
        "text": message.text,
        "original_url": message.original_url,
        "facts": [{"label": label, "value": value} for label, value in message.facts],
        "items": [{"title": item.title, "url": item.url, "text": item.text} for item in message.items],
    }


# --- The request per kind -----------------------------------------------------------

JSON = "application/json"


def outbound_request(
    *,
    kind: str,
    message: Message,
    delivery_id: str,
    created_at: str,
    webhook_url: str = "",
    matrix_homeserver: str = "",
    matrix_room_id: str = "",
    matrix_access_token: str = "",
) -> OutboundRequest:
    """The method, address, headers and JSON body of one delivery (``kind``
    is a Channel.Kind value). Secrets are passed in clear here and nowhere
    else kept."""
    with translation.override(settings.LANGUAGE_CODE):
        if kind == Channel.Kind.SLACK:
            return OutboundRequest("POST", webhook_url, {}, slack_payload(message))
        if kind == Channel.Kind.TEAMS:
            return OutboundRequest("POST", webhook_url, {}, teams_payload(message))
        if kind == Channel.Kind.MATTERMOST:
            return OutboundRequest("POST", webhook_url, {}, mattermost_payload(message))
        if kind == Channel.Kind.MATRIX:
            return OutboundRequest(
                "PUT",
                matrix_send_url(homeserver=matrix_homeserver, room_id=matrix_room_id, txn_id=delivery_id),
                {"Authorization": f"Bearer {matrix_access_token}"},
                matrix_payload(message),
            )
        if kind == Channel.Kind.WEBHOOK:
            return OutboundRequest(
                "POST",
                webhook_url,
                {"Idempotency-Key": delivery_id, "X-Plnorg-Event": message.event},
                generic_payload(message, delivery_id=delivery_id, created_at=created_at),
            )
    raise ValueError(f"Unknown channel kind: {kind!r}")
