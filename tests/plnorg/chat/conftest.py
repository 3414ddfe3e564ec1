from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from members.models import FACILITATORS
from members.services import role_grant
from tests.factories import MemberFactory
from tests.feeds.conftest import fake_dns  # noqa: F401 - the resolver stand-in, shared
from tests.plnorg.chat.servers import MatrixHomeserver, Receiver

MATRIX_TOKEN = "syt_Ym90_s3cr3tMatrixToken_0a1b2c"
MATRIX_ROOM = "!learning:127.0.0.1"


@pytest.fixture
def site(settings):
    """Fixed names and addresses for exact payloads, loopback allowed to the
    safe fetcher (the stand-ins listen on 127.0.0.x)."""
    settings.SITE_URL = "https://plnorg.example.com"
    settings.SITE_NAME = "plnorg"
    settings.ORGANIZATION_NAME = "Example Organization"
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.0/8"]
    return settings


@pytest.fixture
def receiver(site) -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def start(host: str = "127.0.0.1") -> Receiver:
        server = Receiver(host)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def homeserver(site) -> Iterator[MatrixHomeserver]:
    server = MatrixHomeserver(token=MATRIX_TOKEN, rooms=[MATRIX_ROOM])
    yield server
    server.stop()


@pytest.fixture
def facilitator(db):
    member = MemberFactory(display_name="Fran Facilitator")
    role_grant(user=member.user, group_name=FACILITATORS)
    return member
