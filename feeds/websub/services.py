"""Instant updates: WebSub subscriptions, their verification, and pushes.

The life of a subscription (W3C WebSub, https://www.w3.org/TR/websub/):

1. A fetch (feeds.ingest) finds a hub advertised by a feed someone reads
   (`websub_feed_fetched`, inside the fetch's transaction): a
   `WebSubSubscription` is created ``pending``, with a random callback token
   and ``hub.secret``, and ``websub.subscribe`` is queued.
2. `websub_subscribe` POSTs ``hub.mode=subscribe`` through the safe fetcher
   (the hub URL is third-party input: SSRF rules apply). The request time is
   committed first, because a hub may verify before it even answers.
3. The hub checks our intent with a GET to the callback
   (`websub_intent_verify`): we echo ``hub.challenge`` only for a
   subscription we asked for, with the same topic; the subscription becomes
   ``active`` until ``hub.lease_seconds`` from then.
4. The hub POSTs each update to the callback (`websub_push_receive`): the
   ``X-Hub-Signature`` HMAC is checked over the raw body; a signed push is
   stored as received and ``websub.ingest_push`` parses and stores it
   (`websub_push_ingest`) with the parser and the idempotent upsert every
   poll uses (feeds.parse, feeds.store), so an entry that arrives both ways
   is stored once.
5. While a subscription is on, the feed is polled only daily, as a safety
   net (`websub_pushed`, asked by feeds.ingest when it schedules).
6. `websub_subscriptions_maintain` (every five minutes) renews leases before
   they end, gives up subscriptions whose feed was removed, retired or paused
   (unsubscribing at the hub, confirmed like a subscription), fails pending
   ones the hub never confirmed, and sends a feed whose lease ran out back
   to normal polling at once.

Decisions:

- Unsigned or wrongly signed pushes are ignored and counted (on the
  subscription and in /metrics), but answered 202 like a good one, as the
  spec allows (§8): the hub would only retry bytes whose signature can never
  match, and a forger learns nothing from the answer. A push too large for
  the fetcher's cap (FEED_MAX_BYTES) is answered 413 without being read, and
  one for a subscription given up 410 Gone (the spec's "stop sending").
- ``hub.secret`` is sent to every hub, https or not (the spec says SHOULD
  only over https): without it no push could be authenticated at all, and a
  network that can read the secret on its way to an http hub can already
  alter the http feed we poll.
- Renewal re-sends the same callback and secret: the hub then replaces the
  subscription in place once it verifies it ("without any interruption",
  §5.1), whereas a new callback would receive every update twice until the
  old lease ends.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum, Value
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from feeds.fetch import FetchError, FetchResult, fetch
from feeds.models import Feed, Subscription
from feeds.parse import ParsedFeed, ParseError, parse_feed
from feeds.sanitize import plain_text
from feeds.store import entries_store, entry_published_at

from .discovery import Advertised, advertised_hub
from .models import WebSubPush, WebSubSubscription
from .signatures import signature_refusal

log = logging.getLogger(__name__)

State = WebSubSubscription.State
Refusal = WebSubSubscription.Refusal

# While a subscription is on, the feed is still polled this often.
SAFETY_NET_INTERVAL = timedelta(hours=24)
# A pending subscription the hub has not confirmed by then has failed.
VERIFY_TIMEOUT = timedelta(hours=1)
# A failed subscription is tried again on a fetch this long after the last try.
RETRY_AFTER_FAILURE = timedelta(days=1)
# A renewal or unsubscription request that got no confirmation is sent again.
REQUEST_RETRY = timedelta(minutes=30)
# A lease is renewed once less than half of it, or less than a day, is left.
RENEW_MARGIN_MAX = timedelta(days=1)
# Leases longer than this are taken as this long.
LEASE_MAX = timedelta(days=366)
# A stored push whose task has not run after this long is queued again.
PUSH_REQUEUE_AFTER = timedelta(minutes=5)
HUB_ANSWER_MAX_BYTES = 64 * 1024
HUB_ANSWER_SHOWN_CHARS = 300


class PushReceipt(StrEnum):
    """What the callback did with a push (the view answers accordingly)."""

    ACCEPTED = "accepted"  # signed: stored for the ingest task
    IGNORED = "ignored"  # unsigned or wrongly signed: counted, dropped
    TOO_LARGE = "too_large"  # over FEED_MAX_BYTES: counted, not read
    GONE = "gone"  # no such subscription (any more)


def callback_url(subscription: WebSubSubscription) -> str:
    """The absolute callback the hub calls: SITE_URL + the capability path."""
    return settings.SITE_URL + reverse("websub:callback", kwargs={"token": subscription.callback_token})


# --------------------------------------------------------------------------
# Called by the pipeline (feeds.ingest, feeds.services)
# --------------------------------------------------------------------------


def websub_feed_fetched(*, feed: Feed, parsed: ParsedFeed, headers: dict[str, str], now: datetime) -> bool:
    """A fetch of ``feed`` returned a document: subscribe at the hub it
    advertises, move to another hub or topic, or give up when it advertises
    none any more. Returns True while updates arrive by push (the fetch then
    schedules the daily safety-net poll).

    Runs inside the fetch's transaction: no query for a feed without hub or
    subscription (``feed`` loaded with `websub_feed_annotations`), one when
    nothing changes; requests to the hub are queued after commit.
    """
    if not settings.WEBSUB_ENABLED:
        return False
    advertised = advertised_hub(parsed=parsed, headers=headers, feed_url=feed.url)
    if advertised is None and hasattr(feed, "websub_state") and feed.websub_state is None:
        return False  # the common case: no hub, no subscription, no query
    current = WebSubSubscription.objects.filter(feed=feed).first()
    if current is not None and (
        advertised is None or (current.hub_url, current.topic_url) != (advertised.hub_url, advertised.topic_url)
    ):
        _give_up(current, now=now)
        current = None
    if advertised is None:
        return False
    if current is None:
        _subscription_start(feed=feed, advertised=advertised, now=now)
        return False
    if current.state == State.FAILED and (
        current.requested_at is None or current.requested_at <= now - RETRY_AFTER_FAILURE
    ):
        if Subscription.objects.filter(feed=feed).exists():
            WebSubSubscription.objects.filter(pk=current.pk, state=State.FAILED).update(
                state=State.PENDING, requested_at=now
            )
            _queue_after_commit("websub.subscribe", subscription_id=current.pk)
        return False
    return current.is_on(now)


def websub_feed_annotations() -> dict[str, F]:
    """For the pipeline's feed querysets: each feed's subscription state and
    lease end (None without one), read by `websub_pushed` and
    `websub_feed_fetched` without a query of their own (one LEFT JOIN)."""
    return {"websub_state": F("websub__state"), "websub_lease_until": F("websub__lease_expires_at")}


def websub_pushed(feed: Feed, *, now: datetime) -> bool:
    """Whether ``feed`` (loaded with `websub_feed_annotations`) receives its
    updates by push right now, so its next poll is the daily safety net."""
    until = getattr(feed, "websub_lease_until", None)
    return (
        settings.WEBSUB_ENABLED
        and getattr(feed, "websub_state", None) == State.ACTIVE
        and until is not None
        and until > now
    )


def websub_feed_stop(*, feed: Feed) -> None:
    """Nobody reads ``feed`` any more (its last member removed it): give up
    its subscription, unsubscribing at the hub. Inside the caller's transaction."""
    current = WebSubSubscription.objects.filter(feed=feed).first()
    if current is not None:
        _give_up(current, now=timezone.now())


def _subscription_start(*, feed: Feed, advertised: Advertised, now: datetime) -> None:
    if not Subscription.objects.filter(feed=feed).exists():
        return  # a feed kept for a starter pack only: polled, not subscribed
    try:
        with transaction.atomic():  # a savepoint: a concurrent fetch may have created it
            created = WebSubSubscription.objects.create(
                feed=feed,
                hub_url=advertised.hub_url,
                topic_url=advertised.topic_url,
                callback_token=secrets.token_urlsafe(32),
                secret=secrets.token_hex(32),
                requested_at=now,
            )
    except IntegrityError:
        return
    _queue_after_commit("websub.subscribe", subscription_id=created.pk)


def _give_up(subscription: WebSubSubscription, *, now: datetime) -> None:
    """Detach a subscription from its feed. One the hub may hold (pending or
    active) waits, unsubscribing, for the hub's confirmation; a failed one is
    simply deleted. A feed that was pushed goes back to normal polling."""
    if subscription.state == State.FAILED:
        WebSubSubscription.objects.filter(pk=subscription.pk).delete()
        return
    if subscription.state != State.UNSUBSCRIBING:
        WebSubSubscription.objects.filter(pk=subscription.pk).update(
            feed=None, state=State.UNSUBSCRIBING, requested_at=now
        )
        _queue_after_commit("websub.unsubscribe", subscription_id=subscription.pk)
    if subscription.feed_id and subscription.is_on(now):
        _poll_normally(subscription.feed_id, now=now)


def _poll_normally(feed_id: int, *, now: datetime) -> None:
    """Updates no longer arrive by push: make the feed due now instead of at
    its daily safety-net poll. A feed leased to a fetch under way (its
    next_fetch_at within the lease) is left to that fetch."""
    Feed.objects.filter(
        pk=feed_id, status=Feed.Status.ACTIVE, next_fetch_at__gt=now + timedelta(seconds=settings.FETCH_LEASE_SECONDS)
    ).update(next_fetch_at=now)


# --------------------------------------------------------------------------
# Requests to the hub (tasks websub.subscribe / websub.unsubscribe)
# --------------------------------------------------------------------------


def websub_subscribe(*, subscription_id: int) -> bool | None:
    """Send the subscription (or renewal) request. True when the hub accepted
    it for verification, False when it refused or could not be reached (the
    error is kept on the subscription), None when there is nothing to send."""
    subscription = WebSubSubscription.objects.filter(
        pk=subscription_id, feed__isnull=False, state__in=[State.PENDING, State.ACTIVE]
    ).first()
    if subscription is None:
        return None
    sent_at = timezone.now()
    # Committed before the request: a hub may verify before it answers.
    WebSubSubscription.objects.filter(pk=subscription.pk).update(requested_at=sent_at)
    form = {
        "hub.callback": callback_url(subscription),
        "hub.mode": "subscribe",
        "hub.topic": subscription.topic_url,
        "hub.lease_seconds": str(settings.WEBSUB_LEASE_SECONDS),
        "hub.secret": subscription.secret,
    }
    error = _hub_request(subscription.hub_url, form)
    mine = WebSubSubscription.objects.filter(pk=subscription.pk, requested_at=sent_at)
    if error:
        log.warning(
            "websub: subscription %s: the hub %s refused or failed: %s", subscription.pk, subscription.hub_url, error
        )
        now = timezone.now()
        # A first subscription fails; a renewal keeps its lease and is retried.
        mine.filter(state=State.PENDING).update(state=State.FAILED, last_error=error, last_error_at=now)
        mine.filter(state=State.ACTIVE).update(last_error=error, last_error_at=now)
        return False
    return True


def websub_unsubscribe(*, subscription_id: int) -> bool | None:
    """Send the unsubscription request for a subscription given up. True when
    the hub accepted it for verification; False otherwise (retried by the
    maintenance until the lease has run out); None when nothing to send."""
    subscription = WebSubSubscription.objects.filter(pk=subscription_id, state=State.UNSUBSCRIBING).first()
    if subscription is None:
        return None
    sent_at = timezone.now()
    WebSubSubscription.objects.filter(pk=subscription.pk).update(requested_at=sent_at)
    form = {"hub.callback": callback_url(subscription), "hub.mode": "unsubscribe", "hub.topic": subscription.topic_url}
    error = _hub_request(subscription.hub_url, form)
    if error:
        WebSubSubscription.objects.filter(pk=subscription.pk, requested_at=sent_at).update(
            last_error=error, last_error_at=timezone.now()
        )
        return False
    return True


def _hub_request(hub_url: str, form: dict[str, str]) -> str:
    """POST ``form`` to the hub; "" when it answered 2xx, else why not (for
    admins and members; never containing the form, which holds the secret)."""
    try:
        result = fetch(
            hub_url,
            form=form,
            accept="text/plain, */*;q=0.5",
            max_bytes=HUB_ANSWER_MAX_BYTES,
            deadline_seconds=settings.FEED_FETCH_DEADLINE_SECONDS,
        )
    except FetchError as exc:
        return _("plnorg could not reach the hub: %(reason)s") % {"reason": str(exc)}
    if 200 <= result.status < 300:
        return ""
    return _hub_refusal(result)


def _hub_refusal(result: FetchResult) -> str:
    answer = plain_text(result.content.decode("utf-8", "replace"), max_length=HUB_ANSWER_SHOWN_CHARS)
    if answer:
        return _("The hub refused the request (HTTP %(status)d): %(answer)s") % {
            "status": result.status,
            "answer": answer,
        }
    return _("The hub refused the request (HTTP %(status)d).") % {"status": result.status}


# --------------------------------------------------------------------------
# The callback (feeds.websub.views)
# --------------------------------------------------------------------------


def websub_intent_verify(
    *, token: str, mode: str, topic: str, lease_seconds: int | None, now: datetime | None = None
) -> bool:
    """The hub asks whether we want ``mode`` ("subscribe" or "unsubscribe")
    for ``topic``. True (echo the challenge) only for a subscription we asked
    for with that very topic: a pending or active one (a renewal, or the hub
    reconfirming) for subscribe, one we are giving up for unsubscribe."""
    now = now or timezone.now()
    with transaction.atomic():
        subscription = WebSubSubscription.objects.select_for_update().filter(callback_token=token).first()
        if subscription is None or subscription.topic_url != topic:
            return False
        if mode == "unsubscribe":
            if subscription.state != State.UNSUBSCRIBING:
                return False
            subscription.delete()
            return True
        wanted = (
            subscription.state == State.ACTIVE
            or (subscription.state == State.PENDING and subscription.requested_at is not None)
        ) and Feed.objects.filter(pk=subscription.feed_id, status=Feed.Status.ACTIVE).exists()
        if mode != "subscribe" or not wanted or lease_seconds is None or lease_seconds <= 0:
            return False
        lease = min(timedelta(seconds=lease_seconds), LEASE_MAX)
        WebSubSubscription.objects.filter(pk=subscription.pk).update(
            state=State.ACTIVE,
            verified_at=now,
            lease_seconds=int(lease.total_seconds()),
            lease_expires_at=now + lease,
            last_error="",
            last_error_at=None,
        )
    return True


def websub_denial_record(*, token: str, topic: str, reason: str) -> bool:
    """The hub denied (or withdrew) the subscription for ``topic``: it fails
    and the feed is polled as usual. False when there is no such subscription."""
    now = timezone.now()
    with transaction.atomic():
        subscription = WebSubSubscription.objects.select_for_update().filter(callback_token=token).first()
        if subscription is None or subscription.topic_url != topic:
            return False
        if subscription.state == State.UNSUBSCRIBING:
            subscription.delete()  # nothing left at the hub to unsubscribe from
            return True
        reason = plain_text(reason, max_length=HUB_ANSWER_SHOWN_CHARS)
        message = (
            _("The hub denied the subscription: %(reason)s") % {"reason": reason}
            if reason
            else _("The hub denied the subscription.")
        )
        WebSubSubscription.objects.filter(pk=subscription.pk).update(
            state=State.FAILED, last_error=message, last_error_at=now
        )
        if subscription.feed_id and subscription.is_on(now):
            _poll_normally(subscription.feed_id, now=now)
    return True


def websub_push_receive(
    *, token: str, body: bytes | None, signature: str | None, content_type: str, now: datetime | None = None
) -> PushReceipt:
    """A hub delivers an update. ``body`` is None when it was larger than
    FEED_MAX_BYTES and left unread. A correctly signed push is stored as
    received and queued for `websub_push_ingest`; nothing is parsed here."""
    now = now or timezone.now()
    subscription = (
        WebSubSubscription.objects.filter(callback_token=token)
        .select_related("feed")
        .only("pk", "state", "secret", "feed__status")
        .first()
    )
    if (
        subscription is None
        or subscription.feed is None
        or subscription.state == State.UNSUBSCRIBING
        or subscription.feed.status != Feed.Status.ACTIVE
    ):
        return PushReceipt.GONE
    if body is None or len(body) > settings.FEED_MAX_BYTES:
        _count_refusal(subscription.pk, Refusal.TOO_LARGE, now=now)
        return PushReceipt.TOO_LARGE
    refusal = signature_refusal(secret=subscription.secret, body=body, header=signature)
    if refusal is not None:
        _count_refusal(subscription.pk, refusal, now=now)
        return PushReceipt.IGNORED
    with transaction.atomic():
        push = WebSubPush.objects.create(
            subscription_id=subscription.pk, body=body, content_type=content_type[:200], received_at=now
        )
        WebSubSubscription.objects.filter(pk=subscription.pk).update(
            pushes_received=F("pushes_received") + 1, last_push_at=now
        )
        _queue_after_commit("websub.ingest_push", push_id=push.pk)
    return PushReceipt.ACCEPTED


def _count_refusal(subscription_id: int, refusal: str, *, now: datetime) -> None:
    counter = f"refused_{refusal}"
    WebSubSubscription.objects.filter(pk=subscription_id).update(**{counter: F(counter) + 1, "last_refused_at": now})
    log.warning("websub: push for subscription %s ignored: %s", subscription_id, Refusal(refusal).label)


# --------------------------------------------------------------------------
# Storing a push (task websub.ingest_push)
# --------------------------------------------------------------------------


def websub_push_ingest(*, push_id: int) -> int | None:
    """Parse a stored push and store its entries exactly as a poll would
    (feeds.parse, then the idempotent upsert of feeds.store), deleting the
    push in the same transaction: a task delivered twice stores it once.
    Returns the number of new entries, None when there was nothing to do."""
    push = WebSubPush.objects.filter(pk=push_id).select_related("subscription").first()
    if push is None:
        return None
    feed_id = push.subscription.feed_id
    feed = Feed.objects.filter(pk=feed_id, status=Feed.Status.ACTIVE).first() if feed_id else None
    if feed is None:
        WebSubPush.objects.filter(pk=push.pk).delete()
        return None
    try:
        parsed = parse_feed(bytes(push.body), url=feed.url, content_type=push.content_type)
    except ParseError as exc:
        with transaction.atomic():
            if WebSubPush.objects.filter(pk=push.pk).delete()[0]:
                WebSubSubscription.objects.filter(pk=push.subscription_id).update(
                    last_error=_("A pushed update could not be read: %(reason)s") % {"reason": str(exc)},
                    last_error_at=timezone.now(),
                )
        return 0
    now = timezone.now()
    with transaction.atomic():
        if not WebSubPush.objects.filter(pk=push.pk).delete()[0]:
            return None  # another delivery of this task stored it
        stored = entries_store(feed=feed, entries=parsed.entries, fetched_at=now)
        newest = max((entry_published_at(entry, now) for entry in parsed.entries), default=None)
        if newest is not None:
            Feed.objects.filter(pk=feed.pk).update(
                last_published_at=Greatest(Coalesce("last_published_at", Value(newest)), Value(newest))
            )
        if stored.new:
            WebSubSubscription.objects.filter(pk=push.subscription_id).update(
                pushed_entries=F("pushed_entries") + stored.new
            )
    return stored.new


# --------------------------------------------------------------------------
# Maintenance (task websub.maintain_subscriptions, every five minutes)
# --------------------------------------------------------------------------


@dataclass
class Maintenance:
    given_up: int = 0  # feed removed, retired or paused, or WebSub switched off
    unsubscribes_sent: int = 0
    removed: int = 0  # unsubscribed subscriptions whose lease is over
    timed_out: int = 0  # pending, never confirmed
    expired: int = 0  # active, lease over without renewal
    renewals: int = 0
    pushes_requeued: int = 0


def websub_subscriptions_maintain(*, now: datetime | None = None) -> Maintenance:
    """Keep every subscription where it should be; see the module docstring."""
    now = now or timezone.now()
    done = Maintenance()
    done.given_up = _give_up_unwanted(now)
    done.expired = _expire(now)
    done.timed_out = WebSubSubscription.objects.filter(
        state=State.PENDING, requested_at__lte=now - VERIFY_TIMEOUT
    ).update(
        state=State.FAILED, last_error=_("The hub did not confirm the subscription within an hour."), last_error_at=now
    )
    done.removed, done.unsubscribes_sent = _finish_unsubscribing(now)
    done.renewals = _renew(now)
    for push_id in WebSubPush.objects.filter(received_at__lte=now - PUSH_REQUEUE_AFTER).values_list("pk", flat=True)[
        :500
    ]:
        _queue("websub.ingest_push", push_id=push_id)
        done.pushes_requeued += 1
    return done


def _give_up_unwanted(now: datetime) -> int:
    """Subscriptions nobody needs: their feed is gone, no longer active, or
    read by nobody (or WebSub was switched off)."""
    held = WebSubSubscription.objects.exclude(state=State.UNSUBSCRIBING)
    if settings.WEBSUB_ENABLED:
        readers = Subscription.objects.filter(feed=OuterRef("feed_id"))
        held = held.filter(Q(feed__isnull=True) | ~Q(feed__status=Feed.Status.ACTIVE) | ~Exists(readers))
    count = 0
    for subscription in held.order_by("pk")[:500]:
        with transaction.atomic():
            _give_up(subscription, now=now)
        count += 1
    return count


def _expire(now: datetime) -> int:
    """Active subscriptions whose lease ran out: failed, feeds polled again now."""
    expired = list(
        WebSubSubscription.objects.filter(state=State.ACTIVE, lease_expires_at__lte=now).values_list("pk", "feed_id")
    )
    for pk, feed_id in expired:
        with transaction.atomic():
            changed = WebSubSubscription.objects.filter(pk=pk, state=State.ACTIVE, lease_expires_at__lte=now).update(
                state=State.FAILED,
                last_error=_("The subscription's lease ran out before the hub confirmed a renewal."),
                last_error_at=now,
            )
            if changed and feed_id:
                _poll_normally(feed_id, now=now)
    return len(expired)


def _finish_unsubscribing(now: datetime) -> tuple[int, int]:
    """Delete the subscriptions given up whose lease is over (the hub has
    dropped them by now, confirmed or not); ask again for the others."""
    over = Q(lease_expires_at__lte=now) | Q(lease_expires_at__isnull=True, requested_at__lte=now - VERIFY_TIMEOUT)
    _total, deleted = WebSubSubscription.objects.filter(over, state=State.UNSUBSCRIBING).delete()
    removed = deleted.get(WebSubSubscription._meta.label, 0)
    again = list(
        WebSubSubscription.objects.filter(state=State.UNSUBSCRIBING, requested_at__lte=now - REQUEST_RETRY).values_list(
            "pk", flat=True
        )[:500]
    )
    for pk in again:
        WebSubSubscription.objects.filter(pk=pk).update(requested_at=now)
        _queue("websub.unsubscribe", subscription_id=pk)
    return removed, len(again)


def _renew(now: datetime) -> int:
    """Queue a renewal for every active subscription with less than half its
    lease (at most a day) left, unless a renewal is already under way."""
    candidates = WebSubSubscription.objects.filter(
        state=State.ACTIVE, lease_expires_at__gt=now, lease_expires_at__lte=now + RENEW_MARGIN_MAX
    ).values_list("pk", "lease_seconds", "lease_expires_at", "requested_at", "verified_at")
    count = 0
    for pk, lease_seconds, expires_at, requested_at, verified_at in candidates:
        margin = min(RENEW_MARGIN_MAX, timedelta(seconds=(lease_seconds or 0) / 2))
        under_way = (
            requested_at is not None
            and verified_at is not None
            and requested_at > verified_at
            and requested_at > now - REQUEST_RETRY
        )
        if expires_at - margin > now or under_way:
            continue
        WebSubSubscription.objects.filter(pk=pk).update(requested_at=now)
        _queue("websub.subscribe", subscription_id=pk)
        count += 1
    return count


# --------------------------------------------------------------------------
# Figures (/metrics)
# --------------------------------------------------------------------------


@dataclass
class Figures:
    by_state: dict[str, int]
    pushes_received: int
    refused: dict[str, int]  # by Refusal value


def websub_figures() -> Figures:
    """Subscriptions by state and pushes counted on them (two queries)."""
    by_state = dict(WebSubSubscription.objects.values_list("state").annotate(n=Count("id")).order_by())
    totals = WebSubSubscription.objects.aggregate(
        received=Coalesce(Sum("pushes_received"), 0),
        **{refusal: Coalesce(Sum(f"refused_{refusal}"), 0) for refusal in Refusal.values},
    )
    return Figures(
        by_state={state: by_state.get(state, 0) for state in State.values},
        pushes_received=totals["received"],
        refused={refusal: totals[refusal] for refusal in Refusal.values},
    )


# --------------------------------------------------------------------------
# Queueing
# --------------------------------------------------------------------------


def _queue_after_commit(task_name: str, **kwargs: int) -> None:
    transaction.on_commit(lambda: _queue(task_name, **kwargs))


def _queue(task_name: str, **kwargs: int) -> None:
    """Queue one of this app's tasks. With the broker down the request is
    only late: the maintenance finds the subscription (or push) again."""
    from . import tasks

    task = {
        "websub.subscribe": tasks.subscribe,
        "websub.unsubscribe": tasks.unsubscribe,
        "websub.ingest_push": tasks.ingest_push,
    }[task_name]
    try:
        task.apply_async(kwargs=kwargs, retry=False)
    except Exception as exc:  # noqa: BLE001 - broker down: the maintenance queues it again
        log.warning("websub: could not queue %s %s (%s); the maintenance will", task_name, kwargs, exc)
