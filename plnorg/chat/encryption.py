"""Channel secrets at rest: the incoming-webhook address (whoever has it can
post to the channel) and the Matrix access token (whoever has it can act as
the bot), encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from the
`cryptography` package).

The keys come from the settings: ``CHAT_SECRET_KEYS`` (Fernet keys, newest
first: the first encrypts, all decrypt, so a key can be rotated), or, when
that is empty, keys derived with HKDF from ``SECRET_KEY`` and each of
``SECRET_KEY_FALLBACKS``. A database dump alone therefore reveals no secret.
Changing SECRET_KEY without keeping the old one as a fallback makes the saved
secrets unreadable: the channel then says so and asks for them again.
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils.translation import gettext as _


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted with the configured keys."""


def _derived_key(secret_key: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"plnorg.chat", info=b"chat channel secrets")
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))


@functools.cache
def _fernet(keys: tuple[str, ...], secret_keys: tuple[str, ...]) -> MultiFernet:
    if keys:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    return MultiFernet([Fernet(_derived_key(secret_key)) for secret_key in secret_keys])


def _current() -> MultiFernet:
    return _fernet(
        tuple(settings.CHAT_SECRET_KEYS),
        (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])),
    )


def secret_seal(plaintext: str) -> str:
    """The encrypted form of ``plaintext`` to store ("" stays "")."""
    if not plaintext:
        return ""
    return _current().encrypt(plaintext.encode()).decode("ascii")


def secret_unseal(token: str) -> str:
    """The stored secret in clear, for the moment of sending only."""
    if not token:
        return ""
    try:
        return _current().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError) as exc:
        raise SecretUnreadable(
            _(
                "The saved secret of this channel cannot be read any more (the encryption key changed). "
                "Enter the webhook address or access token again."
            )
        ) from exc
