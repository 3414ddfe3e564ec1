"""Every workshops URL against every role (the project-wide test covers all
apps; this one lets the workshops area be checked on its own)."""

import pytest

from core import permissions as perm
from tests.conftest import PERSONAS
from tests.core.test_permissions import check_entry


@pytest.mark.django_db
@pytest.mark.parametrize("persona", list(PERSONAS))
def test_each_role_against_each_workshops_entry(persona, client_as, persona_user):
    client = client_as(persona)
    user = persona_user(persona)
    problems = []
    for name, access in sorted(perm.PERMISSIONS.items()):
        if name.startswith("workshops:"):
            problem = check_entry(name, access, persona, user, client)
            if problem:
                problems.append(problem)
    assert not problems, "\n".join(problems)
