"""Subscription workflows: a member adds an account or a source, or removes one.

Design decisions (documented here because the pages, the `add_feed` command
and the OPML import all rely on them):

- One :class:`~feeds.models.Feed` per normalized URL (``feeds.fetch.normalize_url``),
  shared by every member who registers it. Registering the same URL twice is
  idempotent: the second call answers "already there" and changes nothing.
- Adding never waits for the feed itself: a new feed is stored with
  ``next_fetch_at`` = now and the scheduler fetches it within a minute. Only a
  *site* URL needs the network, to discover its feed (outside any
  transaction, within discovery's one time budget, ``DISCOVERY_DEADLINE_SECONDS``,
  so a slow site never holds a web worker for long). When a site announces
  several feeds, the candidates are returned for the member to pick
  (``choose=`` on the second call).
- Link-only platforms (LinkedIn, X) have no public feed: the profile link is
  stored as a Feed with status ``LINK_ONLY`` (the scheduler claims only
  ACTIVE feeds, so it is never fetched) and also as the subscription's
  ``profile_url``. A profile is thus listed, shared and exported like any
  other account.
- Removing a subscription never touches a feed others use. A feed left with
  no subscriber at all is deleted with its entries (nobody would see them, and
  fetching it would be wasted work) unless another model protects it.
- Accounts are shared with colleagues by default, sources start private,
  unless the caller says otherwise (the pages always ask).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _

from members.models import Member

from .discovery import Candidate, discover
from .fetch import BadURL, FetchError, check_url, normalize_url
from .models import Feed, Subscription
from .platforms import (
    Platform,
    PlatformInputError,
    PlatformNeedsDiscovery,
    detect_platform,
    get_platform,
)
from .websub.services import websub_feed_stop

log = logging.getLogger(__name__)

MAX_TOPICS = 12
MAX_TOPIC_LENGTH = 40
# A pasted URL whose path looks like a feed is taken as a feed, not as a
# profile page of the platform it lives on (https://server/@ana.rss).
_HAS_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:(?![0-9])", re.IGNORECASE)
_FEED_LIKE_PATH = re.compile(r"(\.(rss|atom|xml|json)|/(feed|rss|atom)/?)$", re.IGNORECASE)


class SubscriptionRefused(ValueError):
    """The input cannot be registered; ``message`` says why, for the member."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass
class AddResult:
    """What an add did: ``subscription`` (new or already there) or ``candidates`` to pick from."""

    subscription: Subscription | None = None
    created: bool = False
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def needs_choice(self) -> bool:
        return self.subscription is None and bool(self.candidates)


def topics_clean(topics: Iterable[str] | str) -> list[str]:
    """Topics as stored: trimmed, lower-cased, unique, in the given order, bounded."""
    if isinstance(topics, str):
        topics = topics.split(",")
    cleaned: list[str] = []
    for topic in topics:
        value = " ".join(str(topic).split()).lower()[:MAX_TOPIC_LENGTH]
        if value and value not in cleaned:
            cleaned.append(value)
    return cleaned[:MAX_TOPICS]


def _default_shared(kind: str, is_shared: bool | None) -> bool:
    if is_shared is not None:
        return bool(is_shared)
    return kind == Subscription.Kind.ACCOUNT


def _check_kind(kind: str) -> str:
    if kind not in Subscription.Kind.values:
        raise SubscriptionRefused(_("Choose account or source."))
    return kind


def _platform(slug: str) -> Platform:
    try:
        return get_platform(slug)
    except KeyError:
        raise SubscriptionRefused(_("plnorg does not know the platform %(name)r.") % {"name": slug}) from None


def subscription_store(
    *,
    member: Member,
    feed_url: str,
    kind: str,
    platform: str = "blog",
    is_shared: bool | None = None,
    topics: Iterable[str] = (),
    title: str = "",
    site_url: str = "",
    profile_url: str = "",
    handle: str = "",
    link_only: bool = False,
) -> AddResult:
    """Subscribe ``member`` to the feed at ``feed_url`` (created if new). No network.

    Idempotent: an existing subscription is returned unchanged (created=False).
    """
    _check_kind(kind)
    try:
        url = normalize_url(feed_url)
    except BadURL as exc:
        raise SubscriptionRefused(exc.message) from exc
    site = _checked_or_blank(site_url)
    profile = _checked_or_blank(profile_url)
    for attempt in range(2):
        try:
            with transaction.atomic():
                feed, _created = Feed.objects.get_or_create(
                    url=url,
                    defaults={
                        "platform": platform,
                        "title": title[:300],
                        "site_url": site,
                        "status": Feed.Status.LINK_ONLY if link_only else Feed.Status.ACTIVE,
                    },
                )
                subscription, created = Subscription.objects.get_or_create(
                    member=member,
                    feed=feed,
                    defaults={
                        "kind": kind,
                        "is_shared": _default_shared(kind, is_shared),
                        "topics": topics_clean(topics),
                        "profile_url": profile,
                        "handle": handle[:300],
                    },
                )
            return AddResult(subscription=subscription, created=created)
        except IntegrityError:
            # Lost a race with a concurrent add of the same URL: read it again.
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _checked_or_blank(url: str) -> str:
    if not url:
        return ""
    try:
        return check_url(url)
    except BadURL:
        return ""


def subscription_add_by_handle(
    *,
    member: Member,
    platform: str,
    handle: str,
    kind: str,
    is_shared: bool | None = None,
    topics: Sequence[str] = (),
    choose: str | None = None,
) -> AddResult:
    """Add an account or source named by a handle (or profile link) on ``platform``.

    No fetch, except for inputs that are web pages (a blog, a YouTube
    @handle), which go through discovery. Raises :class:`SubscriptionRefused`.
    """
    _check_kind(kind)
    spec = _platform(platform)
    handle = (handle or "").strip()
    if not spec.has_feed:
        try:
            profile = spec.profile_url(handle)
        except (PlatformInputError, BadURL) as exc:
            raise SubscriptionRefused(str(exc)) from exc
        return subscription_store(
            member=member,
            feed_url=profile,
            kind=kind,
            platform=spec.slug,
            is_shared=is_shared,
            topics=topics,
            title=_profile_title(spec, handle, profile),
            site_url=profile,
            profile_url=profile,
            handle=handle,
            link_only=True,
        )
    try:
        feed_url = spec.feed_url(handle)
    except PlatformNeedsDiscovery as signal:
        return subscription_add_by_url(
            member=member,
            url=signal.url,
            kind=kind,
            is_shared=is_shared,
            topics=topics,
            platform=spec.slug,
            choose=choose,
            handle="" if spec.uses_discovery else handle,
            platform_rules=False,
        )
    except (PlatformInputError, BadURL) as exc:
        raise SubscriptionRefused(str(exc)) from exc
    try:
        profile = spec.profile_url(handle)
    except (PlatformInputError, PlatformNeedsDiscovery, BadURL):
        profile = ""
    return subscription_store(
        member=member,
        feed_url=feed_url,
        kind=kind,
        platform=spec.slug,
        is_shared=is_shared,
        topics=topics,
        site_url=profile,
        profile_url=profile if kind == Subscription.Kind.ACCOUNT else "",
        handle=handle,
    )


def _profile_title(spec: Platform, handle: str, profile: str) -> str:
    name = handle.rstrip("/").rsplit("/", 1)[-1] if "/" in handle else handle
    name = name.lstrip("@") or urlsplit(profile).path.strip("/")
    return f"{name} ({spec.label})"


def subscription_add_by_url(
    *,
    member: Member,
    url: str,
    kind: str,
    is_shared: bool | None = None,
    topics: Sequence[str] = (),
    platform: str | None = None,
    choose: str | None = None,
    handle: str = "",
    allowed_networks=None,
    platform_rules: bool = True,
) -> AddResult:
    """Add a feed URL, or a site URL whose feed is found by discovery.

    - A URL already registered by anyone is subscribed to without any fetch.
    - A profile link of a known platform (https://server/@ana, a GitHub
      profile, a LinkedIn page) follows that platform's rule.
    - Otherwise discovery reads the page (outside any transaction): one feed
      is registered; several are returned as ``candidates`` for the member to
      pick, and the call is repeated with ``choose`` set to the picked URL.

    Raises :class:`SubscriptionRefused` with a message for the member.
    """
    _check_kind(kind)
    raw = (url or "").strip()
    if not raw:
        raise SubscriptionRefused(_("Enter a web address, for example https://example.com/blog."))
    if not _HAS_SCHEME.match(raw) and not raw.startswith("@"):
        raw = "https://" + raw  # "example.com/blog" is a web address
    if choose:
        return _store_chosen(
            member=member,
            url=raw,
            choose=choose,
            kind=kind,
            is_shared=is_shared,
            topics=topics,
            platform=platform,
            handle=handle,
        )
    spec = _platform(platform) if platform else None
    detected = detect_platform(raw)
    if spec is None or (spec.uses_discovery and detected is not None and not detected.uses_discovery):
        spec = detected
    if platform_rules and spec is not None and not spec.uses_discovery and not _is_feed_like(raw):
        return subscription_add_by_handle(
            member=member, platform=spec.slug, handle=raw, kind=kind, is_shared=is_shared, topics=topics
        )
    try:
        normalized = normalize_url(raw)
    except BadURL as exc:
        raise SubscriptionRefused(exc.message) from exc
    existing = Feed.objects.filter(url=normalized).first()
    slug = spec.slug if spec is not None else "blog"
    if existing is not None:
        return subscription_store(
            member=member,
            feed_url=existing.url,
            kind=kind,
            platform=existing.platform,
            is_shared=is_shared,
            topics=topics,
            handle=handle,
        )
    try:
        candidates = discover(normalized, allowed_networks=allowed_networks)
    except FetchError as exc:  # NoFeedFound is one
        raise SubscriptionRefused(str(exc)) from exc
    if len(candidates) > 1:
        return AddResult(candidates=candidates)
    candidate = candidates[0]
    return subscription_store(
        member=member,
        feed_url=candidate.url,
        kind=kind,
        platform=slug,
        is_shared=is_shared,
        topics=topics,
        title=candidate.title if candidate.title != candidate.url else "",
        site_url=normalized if normalize_url(candidate.url) != normalized else "",
        profile_url=normalized if kind == Subscription.Kind.ACCOUNT else "",
        handle=handle,
    )


def _store_chosen(*, member, url, choose, kind, is_shared, topics, platform, handle) -> AddResult:
    try:
        site = normalize_url(url)
    except BadURL:
        site = ""
    return subscription_store(
        member=member,
        feed_url=choose,
        kind=kind,
        platform=platform or "blog",
        is_shared=is_shared,
        topics=topics,
        site_url=site,
        profile_url=site if kind == Subscription.Kind.ACCOUNT else "",
        handle=handle,
    )


def _is_feed_like(url: str) -> bool:
    try:
        path = urlsplit(url).path
    except ValueError:
        return False
    return bool(_FEED_LIKE_PATH.search(path))


def subscription_update(
    *,
    subscription: Subscription,
    is_shared: bool | None = None,
    topics: Iterable[str] | None = None,
    kind: str | None = None,
) -> Subscription:
    """Change what a member decides about one subscription: sharing, topics, kind."""
    fields = []
    if is_shared is not None:
        subscription.is_shared = bool(is_shared)
        fields.append("is_shared")
    if topics is not None:
        subscription.topics = topics_clean(topics)
        fields.append("topics")
    if kind is not None:
        subscription.kind = _check_kind(kind)
        fields.append("kind")
    if fields:
        subscription.save(update_fields=fields)
    return subscription


def subscription_remove(*, subscription: Subscription) -> bool:
    """Remove one subscription. Returns True when its feed, left without any
    subscriber, was deleted too. A feed others use is never touched."""
    with transaction.atomic():
        # Lock the feed so nobody subscribes to it while we decide.
        feed = Feed.objects.select_for_update().get(pk=subscription.feed_id)
        Subscription.objects.filter(pk=subscription.pk).delete()
        if feed.is_demo or Subscription.objects.filter(feed=feed).exists():
            return False
        websub_feed_stop(feed=feed)  # nobody reads it: unsubscribe from its hub
        try:
            with transaction.atomic():
                feed.delete()
        except (ProtectedError, RestrictedError):
            log.info("feed %s has no subscriber left but is referenced elsewhere; kept", feed.pk)
            return False
    return True


def subscriptions_remove_all(*, member: Member) -> int:
    """Remove every subscription of a member (account deletion). Returns how many."""
    count = 0
    for subscription in list(Subscription.objects.filter(member=member)):
        subscription_remove(subscription=subscription)
        count += 1
    return count
