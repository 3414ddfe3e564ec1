import pytest

from members.models import FACILITATORS
from members.services import role_grant
from tests.factories import MemberFactory, TeamFactory


@pytest.fixture
def facilitator(db):
    member = MemberFactory()
    role_grant(user=member.user, group_name=FACILITATORS)
    return member.user


@pytest.fixture
def make_members(db):
    def make(n: int):
        return [MemberFactory() for _ in range(n)]

    return make


@pytest.fixture
def team(db):
    """A clock team of its own (no demo data): its manager is a member of it.
    (tests/workshops/clock/test_clock.py has its own.)"""
    boss = MemberFactory(team=None, display_name="Zelda Boss", user__email="zelda.boss@example.org")
    team = TeamFactory(name="Zz Clock Team", manager=boss.user)
    boss.team = team
    boss.save()
    return team


@pytest.fixture
def worker(team):
    return MemberFactory(team=team, display_name="Walt Worker", user__email="walt.worker@example.org")
