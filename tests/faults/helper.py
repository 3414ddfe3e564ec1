"""Small jobs the drills run inside the private world (a subprocess with the
private DATABASE_URL/REDIS_URL): ``python -m tests.faults.helper <job> ...``.
The last line printed is the answer."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plnorg.settings")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

DRILL_FEEDS = 6
DRILL_EMAIL = "drill.person@example.org"


def _user():
    """The drill's member (created on first use; the template may or may not hold the demo)."""
    from members.models import User
    from tests.factories import MemberFactory

    user = User.objects.filter(email=DRILL_EMAIL).first()
    if user is None:
        user = MemberFactory(user__email=DRILL_EMAIL, display_name="Drill Person").user
    return user


def prepare(base_url: str) -> str:
    """Feeds on the drill's feed server, followed by the persona."""
    from feeds.models import Feed, Subscription

    member = _user().member
    for n in range(DRILL_FEEDS):
        feed, _ = Feed.objects.get_or_create(
            url=f"{base_url.rstrip('/')}/drill/{n}.xml",
            defaults={
                "title": f"Drill feed {n}",
                "site_url": base_url,
                "platform": "blog",
                "next_fetch_at": timezone.now(),
            },
        )
        Subscription.objects.get_or_create(
            member=member, feed=feed, defaults={"kind": Subscription.Kind.SOURCE, "is_shared": True}
        )
    return str(Feed.objects.filter(url__startswith=base_url).count())


def add_feeds(*urls: str) -> str:
    """Feeds at ``urls``, due now (the multi-host test's feed host)."""
    from feeds.models import Feed

    Feed.objects.bulk_create(
        Feed(url=url, title=f"Feed {n}", site_url=url, platform="blog", next_fetch_at=timezone.now())
        for n, url in enumerate(urls)
    )
    return str(Feed.objects.filter(url__in=urls).count())


def session() -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    user = _user()
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def enqueue_email(key: str) -> str:
    """An outbox email caused by a committed change (queued on commit; with
    the broker down it waits for the sweep)."""
    from members.outbox import email_enqueue

    with transaction.atomic():
        email = email_enqueue(
            to="drill@example.org", kind="drill", subject=f"Drill {key}", body_text="A drill.", idempotency_key=key
        )
    return str(email.pk)


def invite(count: str) -> str:
    """``count`` invitations through the real workflow (each commits its email
    to the outbox and queues its sending)."""
    from members.services import invitation_send

    for n in range(int(count)):
        invitation_send(email=f"invitee{n}@example.org", actor=None, display_name=f"Invitee {n}")
    return count


def send_task(name: str) -> str:
    from plnorg.celery import app

    app.send_task(name, kwargs={})
    return "sent"


def due() -> str:
    """Feeds due now (all drill feeds)."""
    from feeds.models import Feed

    return str(Feed.objects.filter(is_demo=False).update(next_fetch_at=timezone.now()))


JOBS = {
    "prepare": prepare,
    "add-feeds": add_feeds,
    "session": session,
    "enqueue-email": enqueue_email,
    "invite": invite,
    "send-task": send_task,
    "due": due,
}

if __name__ == "__main__":
    print(JOBS[sys.argv[1]](*sys.argv[2:]))
