"""Channel secrets at rest: Fernet with a key derived from SECRET_KEY, or
the dedicated CHAT_SECRET_KEYS (rotatable); a secret sealed under a key
that is gone is a clear error on the channel, not a crash."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from plnorg.chat.encryption import SecretUnreadable, secret_seal, secret_unseal
from plnorg.chat.models import Channel, Delivery
from plnorg.chat.services.delivery import delivery_send
from tests.plnorg.chat.factories import channel_make

SECRET = "https://hooks.slack.com/services/T1/B2/very-secret"


def test_sealed_is_not_the_secret_and_opens_back(settings):
    sealed = secret_seal(SECRET)

    assert SECRET not in sealed and "very-secret" not in sealed
    assert secret_unseal(sealed) == SECRET
    assert secret_seal(SECRET) != sealed  # a fresh IV each time
    assert (secret_seal(""), secret_unseal("")) == ("", "")


def test_a_new_secret_key_cannot_open_what_the_old_one_sealed(settings):
    sealed = secret_seal(SECRET)
    settings.SECRET_KEY = "another-secret-key-entirely"

    with pytest.raises(SecretUnreadable, match="Enter the webhook address or access token again"):
        secret_unseal(sealed)


def test_keeping_the_old_secret_key_as_a_fallback_still_opens_it(settings):
    sealed = secret_seal(SECRET)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "another-secret-key-entirely"

    assert secret_unseal(sealed) == SECRET


def test_dedicated_keys_rotate_newest_first(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CHAT_SECRET_KEYS = [old]
    sealed_old = secret_seal(SECRET)
    settings.CHAT_SECRET_KEYS = [new, old]
    sealed_new = secret_seal(SECRET)

    assert (secret_unseal(sealed_old), secret_unseal(sealed_new)) == (SECRET, SECRET)
    settings.CHAT_SECRET_KEYS = [new]
    assert secret_unseal(sealed_new) == SECRET
    with pytest.raises(SecretUnreadable):
        secret_unseal(sealed_old)


@pytest.mark.django_db
def test_an_unreadable_secret_is_the_channels_error(settings, receiver):
    channel = channel_make(url=receiver().url, receives_picks=True)
    Channel.objects.filter(pk=channel.pk).update(webhook_url_sealed="gAAAAAB-not-a-token")
    delivery = Delivery.objects.create(channel=channel, event=Delivery.Event.TEST, key="test:unreadable")

    assert delivery_send(delivery_id=delivery.pk) == Delivery.Status.FAILED

    channel.refresh_from_db()
    assert channel.last_error == (
        "The saved secret of this channel cannot be read any more (the encryption key changed). "
        "Enter the webhook address or access token again."
    )
