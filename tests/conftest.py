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
