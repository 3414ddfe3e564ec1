"""Announcements: a lower app says "this just happened", a higher one tells the
world (chat channels today) — the registry in between.

The app where something happens (feeds makes picks, workshops publishes
workshops) must not import the app that announces it (plnorg.chat sits
above both), and plnorg uses no Django signals for workflows. So the
dependency is inverted here, in the ground every app may import, the way
core.lifecycle does it for member data:

- the app that owns the change calls ``announce(EVENT, object_id=...)``
  inside the transaction of the change, after its rows are written;
- a listening app subscribes once, from its AppConfig.ready, with
  ``subscribe(name, listener)``; the listener writes its own rows (an outbox
  row, never a network call) in that same transaction, so they exist exactly
  when the change does: a rolled-back pick leaves no announcement behind.

Each listener runs in a savepoint of its own: a listener that fails is
logged and its rows are rolled back, but the change that was announced
(the pick, the publication) still commits. Announcing is best effort; the
change is not.

Events (the ``object_id`` each carries):

- ``PICK_MADE``: a facilitator picked an entry (the Pick's id);
- ``WORKSHOP_PUBLISHED``: a workshop was published (the Workshop's id);
- ``WORKSHOP_LAST_SEATS``: a published workshop is down to its last seats
  (the Workshop's id; ``data["seats_left"]``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

log = logging.getLogger(__name__)

PICK_MADE = "pick.made"
WORKSHOP_PUBLISHED = "workshop.published"
WORKSHOP_LAST_SEATS = "workshop.last_seats"
EVENTS = frozenset({PICK_MADE, WORKSHOP_PUBLISHED, WORKSHOP_LAST_SEATS})


@dataclass(frozen=True)
class Announcement:
    """What happened: the event, the id of the row it is about, and a few
    primitive values the listener may need (never a model instance, so a
    listener reads the committed state itself)."""

    event: str
    object_id: int
    data: dict[str, Any] = field(default_factory=dict)


Listener = Callable[[Announcement], None]

LISTENERS: list[tuple[str, Listener]] = []


def subscribe(name: str, listener: Listener) -> None:
    """Add a listener (once per name: AppConfig.ready may run twice)."""
    if any(existing == name for existing, _ in LISTENERS):
        return
    LISTENERS.append((name, listener))


def announce(event: str, *, object_id: int, **data: Any) -> None:
    """Tell every listener, now, inside the caller's transaction."""
    if event not in EVENTS:
        raise ValueError(f"Unknown announcement event: {event!r}")
    announcement = Announcement(event=event, object_id=object_id, data=data)
    for name, listener in LISTENERS:
        try:
            with transaction.atomic():
                listener(announcement)
        except Exception:  # noqa: BLE001 - an announcement never undoes the change it announces
            log.exception("announcement %s (object %s): listener %s failed", event, object_id, name)
