"""The ``X-Hub-Signature`` of a push (WebSub §8): ``method=hexdigest``, an
HMAC of the raw body keyed with the subscription's ``hub.secret``.

Every algorithm the spec registers is accepted (most hubs still sign with
sha1). The comparison is constant-time (`hmac.compare_digest`), so the
answer's timing tells a forger nothing about how close a guess came.
"""

from __future__ import annotations

import hashlib
import hmac

from .models import WebSubSubscription

ALGORITHMS = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}


def signature_refusal(*, secret: str, body: bytes, header: str | None) -> str | None:
    """None when ``header`` signs ``body`` with ``secret``; otherwise why not
    (a `WebSubSubscription.Refusal`: unsigned, or a wrong signature, which
    includes an algorithm the spec does not register)."""
    if not header or not header.strip():
        return WebSubSubscription.Refusal.UNSIGNED
    method, _, given = header.strip().partition("=")
    algorithm = ALGORITHMS.get(method.strip().lower())
    if algorithm is None or not given:
        return WebSubSubscription.Refusal.BAD_SIGNATURE
    expected = hmac.new(secret.encode("utf-8"), body, algorithm).hexdigest().encode("ascii")
    # Bytes on both sides: compare_digest refuses non-ASCII text, which a forger may send.
    if not hmac.compare_digest(expected, given.strip().lower().encode("utf-8", "replace")):
        return WebSubSubscription.Refusal.BAD_SIGNATURE
    return None
