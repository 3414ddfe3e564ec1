"""Shared fixtures: the seeded demo organization, personas, cache hygiene.

The demo organization is seeded ONCE per run into the test database (see
`django_db_setup`); ordinary `db` tests see it and roll back their own changes.
Tests marked `transaction=True` flush tables when they end, so they must build
their own data; pytest-django runs them after the ordinary ones.
"""

import pytest
from django.conf import settings
from django.core.cache import cache

from members.demo import demo_email

# Tests log in dozens of times; the production hasher's cost buys nothing here.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

PERSONAS = {
    "anonymous": None,
    "new": "newcomer",
    "employee": "employee",
    "manager": "manager",
    "facilitator": "facilitator",
    "leader": "ceo",
    "admin": "admin",
}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from plnorg.demo import demo_seed

    with django_db_blocker.unblock():
        demo_seed()


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate limits and cached fragments must never leak between tests."""
    cache.clear()
    yield


@pytest.fixture
def persona_user(db):
    from members.models import User

    def get(persona: str):
        local = PERSONAS[persona]
        return None if local is None else User.objects.get(email=demo_email(local))

    return get


@pytest.fixture
def client_as(client, persona_user):
    """A test client signed in as a persona (or anonymous)."""

    def make(persona: str):
        from django.test import Client

        c = Client()
        user = persona_user(persona)
        if user is not None:
            c.force_login(user)
        return c

    return make


# Nothing listens on the discard port: connecting is refused at once.
CLOSED_PORT_REDIS_URL = "redis://127.0.0.1:9/0"


def _celery_repoint(app, url: str, pools: tuple | None = None) -> tuple:
    """Point the Celery app's broker at `url`; returns the producer pools it had."""
    amqp = app.amqp
    previous = (app._pool, amqp._producer_pool)
    for pool in {id(p): p for p in previous if p is not None and pools is not None}.values():
        pool.force_close_all()
    app.conf.broker_url = url
    app._pool, amqp._producer_pool = pools or (None, None)
    return previous


@pytest.fixture
def broker_down(settings):
    """Celery's broker (Redis) unreachable for this test: a closed port.
    Queueing a task fails fast (see CELERY_BROKER_TRANSPORT_OPTIONS) and
    /healthz names the broker. Everything is pointed back afterwards."""
    from plnorg.celery import app

    saved_url = app.conf.broker_url
    settings.CELERY_BROKER_URL = settings.REDIS_URL = CLOSED_PORT_REDIS_URL
    saved_pools = _celery_repoint(app, CLOSED_PORT_REDIS_URL)
    yield CLOSED_PORT_REDIS_URL
    _celery_repoint(app, saved_url, saved_pools)


@pytest.fixture
def cache_down(settings):
    """The cache Redis unreachable for this test (django-redis ignores the
    errors, so pages and login must still work)."""
    caches = {**settings.CACHES}
    caches["default"] = {**caches["default"], "LOCATION": CLOSED_PORT_REDIS_URL}
    settings.CACHES = caches
    yield CLOSED_PORT_REDIS_URL
