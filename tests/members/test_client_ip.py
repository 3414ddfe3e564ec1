"""The client's address behind the TLS proxy.

Every request reaches gunicorn from the proxy's address. With
TRUSTED_PROXY_COUNT=1 (one proxy of ours, as the README sets it up) the client
is the address that proxy appended to X-Forwarded-For, for allauth's
per-address sign-in limits and for the audit log alike; whatever a client
writes into the header itself is ignored. Without a proxy (0, the default) the
header is ignored altogether.
"""

import pytest
from django.test import Client
from django.urls import reverse

from members.audit import DATA_EXPORTED
from members.demo import DEMO_PASSWORD
from members.models import AuditEvent

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"
EMPLOYEE = "employee@example.com"


def _sign_in(*, client_address: str, written_by_client: str = "", password: str = DEMO_PASSWORD):
    """One sign-in as the proxy forwards it: the proxy appends the address it
    saw to whatever X-Forwarded-For the client sent."""
    forwarded = f"{written_by_client}, {client_address}" if written_by_client else client_address
    return Client().post(
        reverse("account_login"),
        {"login": EMPLOYEE, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


@pytest.fixture
def behind_one_proxy(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1


def test_forty_colleagues_signing_in_within_a_minute_behind_the_proxy_all_get_in(behind_one_proxy):
    # allauth allows 30 sign-ins a minute per address: before, the 31st of the
    # whole organization (all "from" the proxy) got 429.
    answers = [_sign_in(client_address=f"198.51.100.{n}") for n in range(1, 41)]

    assert [(a.status_code, a["Location"]) for a in answers] == [(302, reverse("home"))] * 40


def test_one_client_behind_the_proxy_is_still_limited_whatever_it_writes_in_the_header(behind_one_proxy):
    # The client varies the address it writes into X-Forwarded-For; the hop
    # the proxy appended stays the same, and that is the one counted.
    answers = [_sign_in(client_address="198.51.100.7", written_by_client=f"203.0.113.{n}") for n in range(1, 32)]

    assert [a.status_code for a in answers] == [302] * 30 + [429]


def test_without_a_trusted_proxy_the_header_is_ignored():
    # TRUSTED_PROXY_COUNT=0 (the default): every request below comes from the
    # same socket peer, whatever the header says.
    answers = [
        Client().post(
            reverse("account_login"),
            {"login": EMPLOYEE, "password": DEMO_PASSWORD},
            REMOTE_ADDR="192.0.2.50",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )
        for n in range(1, 32)
    ]

    assert [a.status_code for a in answers] == [302] * 30 + [429]


def _download_my_data(client_as, **headers):
    client_as("employee").get(reverse("my_data_download"), REMOTE_ADDR=PROXY, **headers)
    return AuditEvent.objects.filter(action=DATA_EXPORTED).latest("pk").ip


def test_audit_log_records_the_address_the_proxy_saw(behind_one_proxy, client_as):
    ip = _download_my_data(client_as, HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7")

    assert ip == "198.51.100.7"  # not the 203.0.113.9 the client wrote itself


def test_audit_log_ignores_the_header_without_a_trusted_proxy(client_as):
    ip = _download_my_data(client_as, HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert ip == PROXY
