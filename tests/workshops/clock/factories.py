"""factory_boy factories for the clock (time entries and policies)."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from tests.factories import MemberFactory
from workshops.clock.models import ClockPolicy, TimeEntry


class ClockPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClockPolicy

    team = None
    weekly_allowance_minutes = 120
    hourly_cost = Decimal("60.00")


class TimeEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeEntry

    member = factory.SubFactory(MemberFactory)
    team = factory.LazyAttribute(lambda o: o.member.team if o.member else None)
    team_name = factory.LazyAttribute(lambda o: o.member.team.name if o.member and o.member.team else "")
    date = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=1))
    minutes = 30
    activity = "seek"
    status = TimeEntry.Status.DRAFT
