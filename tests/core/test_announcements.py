"""core.announcements: lower apps announce inside their transaction, higher
apps listen; a failing listener is logged and rolled back alone, never the
change it was told about."""

import logging

import pytest

from core import announcements
from core.announcements import PICK_MADE, Announcement, announce, subscribe
from feeds.curation import pick_create
from feeds.models import Pick
from members.models import FACILITATORS, OutboundEmail
from members.services import role_grant
from tests.factories import MemberFactory, shared_entry


@pytest.fixture
def listeners(monkeypatch):
    """The registered listeners, restored after the test."""
    monkeypatch.setattr(announcements, "LISTENERS", list(announcements.LISTENERS))
    return announcements.LISTENERS


def test_chat_listens_from_its_app_config():
    assert [name for name, _listener in announcements.LISTENERS] == ["chat"]


@pytest.mark.django_db
def test_subscribing_twice_by_name_keeps_one(listeners):
    heard = []
    subscribe("twice", heard.append)
    subscribe("twice", heard.append)

    announce(PICK_MADE, object_id=0)

    assert heard == [Announcement(event=PICK_MADE, object_id=0)]


def test_an_unknown_event_is_refused():
    with pytest.raises(ValueError, match="Unknown announcement event: 'pick.deleted'"):
        announce("pick.deleted", object_id=1)


@pytest.mark.django_db
def test_a_failing_listener_rolls_back_its_own_rows_only_and_the_pick_stands(listeners, caplog):
    def broken(announcement):
        OutboundEmail.objects.create(to="x@example.com", kind="t", subject="s", body_text="b", idempotency_key="broken")
        raise RuntimeError("listener bug")

    heard = []
    subscribe("broken", broken)
    subscribe("after", heard.append)
    facilitator = MemberFactory()
    role_grant(user=facilitator.user, group_name=FACILITATORS)
    caplog.set_level(logging.ERROR, logger="core.announcements")

    pick = pick_create(member=facilitator, entry=shared_entry())

    assert Pick.objects.filter(pk=pick.pk).exists()
    assert not OutboundEmail.objects.filter(idempotency_key="broken").exists()
    assert heard == [Announcement(event=PICK_MADE, object_id=pick.pk)]  # the others still hear it
    assert [r.getMessage() for r in caplog.records] == [
        f"announcement pick.made (object {pick.pk}): listener broken failed"
    ]
