"""Subscribing and unsubscribing from a reading app.

Subscribing goes through the same safe add path as the form in My PLN
(``feeds.services.subscription_add_by_url``): the safe fetcher's address
rules for discovery, the platforms' rules for profile links and handles, and
the consent defaults: what an app adds is a *source*, and a source starts
private. So it is listed to the member in their apps at once, and its
entries reach the stream (and the apps) when they share it in My PLN. A
member whose sharing is paused can subscribe too, as in My PLN.

Editing changes only the member's own subscriptions: its topics (labels),
or removing it (``feeds.services.subscription_remove``). Sources that are
in the stream because colleagues share them cannot be unsubscribed from
someone else's app; "My PLN" and team labels follow who shares a source and
cannot be set by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils.translation import gettext as _

from feeds.models import Feed, Subscription
from feeds.services import (
    SubscriptionRefused,
    subscription_add_by_url,
    subscription_remove,
    subscription_update,
    topics_clean,
)
from members.models import Member

from .streams import MY_PLN, TEAM_PREFIX, StreamRefused


def reader_subscribe(*, member: Member, url: str, labels: Sequence[str] = ()) -> Subscription:
    """Add ``url`` (a feed, a site, or a profile link) as a private source,
    with ``labels`` as its topics. Raises StreamRefused with the reason."""
    topics = _topics(labels)
    try:
        result = subscription_add_by_url(
            member=member, url=url, kind=Subscription.Kind.SOURCE, is_shared=None, topics=topics
        )
    except SubscriptionRefused as exc:
        raise StreamRefused(exc.message) from exc
    if result.needs_choice:
        raise StreamRefused(
            _("This site offers several feeds; subscribe to one of them: %(urls)s")
            % {"urls": ", ".join(c.url for c in result.candidates)}
        )
    return result.subscription


def own_subscription(*, member: Member, stream_id: str) -> Subscription:
    """The member's subscription behind ``feed/<id>`` or ``feed/<url>``."""
    reference = stream_id[len("feed/") :] if stream_id.startswith("feed/") else ""
    feed = None
    if reference.isdigit() and len(reference) < 19:
        feed = Feed.objects.filter(pk=int(reference)).first()
    elif reference:
        feed = Feed.objects.filter(url=reference).first()
    subscription = (
        Subscription.objects.filter(member=member, feed=feed).select_related("feed").first() if feed else None
    )
    if subscription is None:
        if feed is not None and Subscription.objects.shared().filter(feed=feed).exists():
            raise StreamRefused(
                _("%(feed)s is in the stream because colleagues share it; only your own sources can be changed here.")
                % {"feed": stream_id}
            )
        raise StreamRefused(_("Unknown feed %(feed)r.") % {"feed": stream_id})
    return subscription


def _topics(labels: Sequence[str]) -> list[str]:
    for label in labels:
        if label == MY_PLN or label.startswith(TEAM_PREFIX):
            raise StreamRefused(
                _("%(label)r follows who shares a source and cannot be set; use a topic instead.") % {"label": label}
            )
    return topics_clean(labels)


def reader_subscriptions_edit(
    *, subscriptions: Sequence[Subscription], add: Sequence[str] = (), remove: Sequence[str] = ()
) -> None:
    """Add and remove topic labels on the member's own subscriptions, all in
    one transaction."""
    add_topics, remove_topics = _topics(add), set(topics_clean(remove))
    with transaction.atomic():
        for subscription in subscriptions:
            topics = [t for t in subscription.topics or [] if t not in remove_topics]
            topics += [t for t in add_topics if t not in topics]
            subscription_update(subscription=subscription, topics=topics)


def reader_unsubscribe(*, subscriptions: Sequence[Subscription]) -> None:
    with transaction.atomic():
        for subscription in subscriptions:
            subscription_remove(subscription=subscription)
