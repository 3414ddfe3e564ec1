"""Sessions are read through the cache (cached_db): a signed-in request reads
no session row, an evicted copy falls back to the row, and ending a user's
sessions ends them in both."""

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.services import user_sessions_end
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def _session_queries(client) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("home"))
    return response.status_code, [q["sql"] for q in queries.captured_queries if '"django_session"' in q["sql"]]


def test_a_signed_in_request_reads_its_session_from_the_cache(client):
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"
    user = UserFactory(password=PASSWORD)
    assert client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD}).status_code == 302
    key = client.cookies["sessionid"].value

    status, reads = _session_queries(client)

    assert (status, reads) == (200, [])
    assert Session.objects.filter(session_key=key).exists()  # the row is kept too

    cache.clear()  # evicted (the cache Redis is allkeys-lru) or lost
    status, reads = _session_queries(client)
    assert status == 200 and len(reads) == 1  # read back from the row, and cached again
    assert _session_queries(client) == (200, [])


def test_ending_a_users_sessions_signs_them_out_at_once(client):
    user = UserFactory(password=PASSWORD)
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert client.get(reverse("home")).status_code == 200

    assert user_sessions_end(user=user) == 1

    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert not Session.objects.exists()
