"""The WebSub callback: hubs GET it to verify intent and POST it to push.

Public (hubs have no session) and the one CSRF exemption besides the
one-click unsubscribe: a hub cannot carry a CSRF token, and the unguessable
token in the URL plus the HMAC of every push are the credentials. Answers are
plain text for machines, in English. Pushes are stored as received and parsed
by a task: nothing here parses third-party XML.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .services import PushReceipt, websub_denial_record, websub_intent_verify, websub_push_receive

CHALLENGE_MAX_LENGTH = 1000
MODES = ("subscribe", "unsubscribe", "denied")


def _text(status: int, text: str) -> HttpResponse:
    # A safe media type (and nosniff, from SecurityMiddleware): the echoed
    # challenge is third-party text and must never be read as HTML (§5.3).
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def callback(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        return _push(request, token)
    return _verification(request, token)


def _verification(request: HttpRequest, token: str) -> HttpResponse:
    mode = request.GET.get("hub.mode", "")
    topic = request.GET.get("hub.topic", "")
    if mode not in MODES:
        return _text(400, "This is plnorg's WebSub callback: hub.mode must be subscribe, unsubscribe or denied.")
    if not topic:
        return _text(400, "hub.topic is missing.")
    if mode == "denied":
        if websub_denial_record(token=token, topic=topic, reason=request.GET.get("hub.reason", "")):
            return _text(200, "Noted: plnorg polls this feed instead.")
        return _text(404, "No subscription here for that topic.")
    challenge = request.GET.get("hub.challenge", "")
    if not challenge:
        return _text(400, "hub.challenge is missing.")
    if len(challenge) > CHALLENGE_MAX_LENGTH:
        return _text(400, f"hub.challenge is longer than {CHALLENGE_MAX_LENGTH} characters.")
    lease_seconds = None
    if mode == "subscribe":
        raw = request.GET.get("hub.lease_seconds", "")
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 10 and int(raw) > 0):
            return _text(400, "hub.lease_seconds must be a positive whole number of seconds.")
        lease_seconds = int(raw)
    if websub_intent_verify(token=token, mode=mode, topic=topic, lease_seconds=lease_seconds):
        return _text(200, challenge)
    return _text(404, f"No pending {mode} here for that topic.")


def _push(request: HttpRequest, token: str) -> HttpResponse:
    limit = settings.FEED_MAX_BYTES
    declared = request.META.get("CONTENT_LENGTH") or "0"
    too_large = declared.isdigit() and int(declared) > limit
    # Never more than the cap in memory: a larger body is left unread.
    body = None if too_large else request.read(limit + 1)
    receipt = websub_push_receive(
        token=token,
        body=body,
        signature=request.headers.get("X-Hub-Signature"),
        content_type=request.META.get("CONTENT_TYPE", ""),
    )
    if receipt == PushReceipt.GONE:
        return _text(410, "plnorg no longer wants updates at this address.")
    if receipt == PushReceipt.TOO_LARGE:
        return _text(413, f"The update is larger than the {limit} bytes plnorg accepts.")
    # Accepted and ignored (unsigned, wrongly signed) pushes get the same answer.
    return HttpResponse(status=202)
