"""Capacity holds when many people register at the same moment (real
PostgreSQL, one connection per thread, the workshop row locked)."""

import threading
from collections import Counter

import pytest
from django.db import connection

from tests.factories import MemberFactory
from tests.workshops.factories import WorkshopFactory
from workshops.models import Registration
from workshops.services.registration import workshop_register

PEOPLE = 50
SEATS = 10


@pytest.mark.timeout(120)
@pytest.mark.django_db(transaction=True)
def test_50_parallel_registrations_for_10_seats():
    workshop = WorkshopFactory(capacity=SEATS)
    members = [MemberFactory() for _ in range(PEOPLE)]
    barrier = threading.Barrier(PEOPLE)
    errors = []

    def register(member):
        try:
            barrier.wait(timeout=60)
            workshop_register(workshop_id=workshop.pk, member=member, actor=member.user)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(m,)) for m in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    assert errors == []
    rows = list(Registration.objects.filter(workshop=workshop).values_list("status", "waitlist_position"))
    assert Counter(status for status, _ in rows) == {"registered": SEATS, "waitlisted": PEOPLE - SEATS}
    assert sorted(p for s, p in rows if s == "waitlisted") == list(range(1, PEOPLE - SEATS + 1))
    assert all(p is None for s, p in rows if s == "registered")
