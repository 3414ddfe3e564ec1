"""X-Hub-Signature: every registered algorithm over the raw body, constant-time."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from feeds.websub.signatures import signature_refusal


def sign(body: bytes, secret: str = "s3cret", algorithm: str = "sha256") -> str:
    return f"{algorithm}={hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()}"


@pytest.mark.parametrize(
    ("header", "refusal"),
    [
        (sign(b"body", algorithm="sha1"), None),
        (sign(b"body"), None),
        (sign(b"body", algorithm="sha384"), None),
        (sign(b"body", algorithm="sha512"), None),
        (sign(b"body").upper().replace("SHA256", "sha256"), None),
        (None, "unsigned"),
        ("  ", "unsigned"),
        (sign(b"body", secret="other"), "bad_signature"),
        (sign(b"other body"), "bad_signature"),
        (sign(b"body").replace("sha256", "md5"), "bad_signature"),
        ("sha256", "bad_signature"),
        ("sha256=zzzz", "bad_signature"),
        ("sha256=é", "bad_signature"),
    ],
)
def test_signature_check(header, refusal):
    assert signature_refusal(secret="s3cret", body=b"body", header=header) == refusal
