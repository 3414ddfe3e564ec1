"""Channels for the tests, built the way channel_save stores them (sealed
secrets) without its DNS checks, so a test can point one anywhere."""

from __future__ import annotations

from urllib.parse import urlsplit

from plnorg.chat.encryption import secret_seal
from plnorg.chat.models import Channel


def channel_make(*, kind: str = Channel.Kind.SLACK, url: str = "", token: str = "", **fields) -> Channel:
    if kind == Channel.Kind.MATRIX:
        fields.setdefault("matrix_access_token_sealed", secret_seal(token))
    else:
        fields.setdefault("webhook_url_sealed", secret_seal(url))
        fields.setdefault("webhook_host", urlsplit(url).hostname or "")
    fields.setdefault("name", f"Test {kind} channel")
    return Channel.objects.create(kind=kind, **fields)
