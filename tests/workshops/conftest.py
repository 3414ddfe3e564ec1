import pytest

from members.models import FACILITATORS
from members.services import role_grant
from tests.factories import MemberFactory


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
