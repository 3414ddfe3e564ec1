"""The shared stream's query layer: filters, keyset pages, search, names.

Everything here reads only what the organization can see: entries of feeds
with at least one *shared* subscription (``Entry.objects.shared()``), not
hidden by moderation. Team, member, kind and topic narrow through shared
subscriptions only, so a private subscription never puts an entry under
someone's name, team or topic.

Pages are keyset pages over ``(published_at, id)`` (the ``entry_keyset_idx``
index), newest first: the cursor in the URL is the last row's key, so a page
never uses OFFSET and never counts the stream, and entries arriving between
two pages can neither be skipped nor repeated.

Search: PostgreSQL full-text search over the stored ``Entry.search_vector``
(title A, summary B, content C, 'english'; see migration 0004) with
``websearch_to_tsquery`` (quotes, ``or``, ``-word``), highlighted snippets
from ``ts_headline``, ordered by date or by relevance among the newest
``RELEVANCE_WINDOW`` matches. On SQLite (the embedded mode) every word must
appear in the title, summary or content (icontains), newest first, with
snippets cut in Python. The one database-vendor check is ``full_text()``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import NamedTuple

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.core.cache import cache
from django.db import connection
from django.db.models import BooleanField, Case, Exists, F, Func, OuterRef, Q, QuerySet, TextField, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Concat, Left, NullIf
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.querymemo import values_rows
from members.models import Member, Team

from .curation import entries_picked
from .models import Entry, Feed, Subscription

PAGE_SIZE = 50
RELEVANCE_WINDOW = 1000
SPARSE_MATCHES = 2000  # below this many matches, a search is fetched by id (see _sparse_matches)
DENSE_CACHE_SECONDS = 60 * 60  # how long "this search has many matches" is remembered
SEARCH_CONFIG = "english"  # the same configuration as the trigger in migration 0004
EXCERPT_CHARS = 280
SNIPPET_CHARS = 240
NAMES_SHOWN = 2  # "shared by Ana, Ben and 3 others"
CHOICES_CACHE_KEY = "feeds:stream:choices:v1"
CHOICES_CACHE_SECONDS = 300
# ts_headline marks matches with these (private-use characters, stripped from
# the text first); the snippet is escaped, then they become <mark> tags.
_START, _STOP = "\ue000", "\ue001"

# What a stream row shows (feeds.views.stream), in StreamRow's order: every
# other column stays in the database (the body is read through
# excerpt_source, cut to 4,000 characters).
STREAM_ROW_FIELDS = ("pk", "feed_id", "title", "link", "published_at", "feed__title", "feed__url", "feed__platform")

ORDER_DATE = "date"
ORDER_RELEVANCE = "relevance"


def full_text() -> bool:
    """The one vendor check: PostgreSQL full-text search, else the plain fallback."""
    return connection.vendor == "postgresql"


@dataclass(frozen=True)
class StreamFilters:
    kind: str = ""  # "account" (what we publish), "source" (what we read), "" (all)
    team: int | None = None
    member: int | None = None
    platform: str = ""
    topic: str = ""
    since: date | None = None
    until: date | None = None
    q: str = ""
    order: str = ORDER_DATE
    picks: bool = False  # only entries a facilitator picked

    @property
    def narrows_subscriptions(self) -> bool:
        return bool(self.kind or self.team or self.member or self.topic)

    @property
    def by_relevance(self) -> bool:
        return bool(self.q) and self.order == ORDER_RELEVANCE and full_text()


class Person(NamedTuple):
    """A member as the stream names them (``name`` is Member.name): read as
    two columns, because a page's worth of Member and User instances cost
    more than the query."""

    pk: int
    name: str


@dataclass
class Through:
    """The members an entry comes through: accounts ("by Ana") and shared
    sources ("shared by Ana, Ben and 3 others")."""

    authors: list[Person] = field(default_factory=list)
    sharers: list[Person] = field(default_factory=list)

    @property
    def authors_shown(self) -> list[Person]:
        return _shown(self.authors)

    @property
    def authors_others(self) -> int:
        return len(self.authors) - len(self.authors_shown)

    @property
    def sharers_shown(self) -> list[Person]:
        return _shown(self.sharers)

    @property
    def sharers_others(self) -> int:
        return len(self.sharers) - len(self.sharers_shown)


def _shown(people: list[Person]) -> list[Person]:
    # Three names read fine; from four on, two names and "N others".
    return people if len(people) <= NAMES_SHOWN + 1 else people[:NAMES_SHOWN]


def names_text(people: list[Person]) -> str:
    """ "Ana", "Ana and Ben", "Ana, Ben and Chen", "Ana, Ben and 3 others"."""
    shown = [person.name for person in _shown(people)]
    others = len(people) - len(shown)
    if others:
        return ngettext("%(names)s and %(count)d other", "%(names)s and %(count)d others", others) % {
            "names": ", ".join(shown),
            "count": others,
        }
    if len(shown) <= 1:
        return "".join(shown)
    return _("%(names)s and %(last)s") % {"names": ", ".join(shown[:-1]), "last": shown[-1]}


def through_text(through: Through) -> str:
    """ "by Ana · shared by Ana, Ben and 3 others" (plain text, escaped by the template)."""
    parts = []
    if through.authors:
        parts.append(_("by %(names)s") % {"names": names_text(through.authors)})
    if through.sharers:
        parts.append(_("shared by %(names)s") % {"names": names_text(through.sharers)})
    return " · ".join(parts)


@dataclass(slots=True)
class StreamRow:
    """One entry as the stream shows it, read as a tuple of its columns: a
    page's 50 Entry and Feed instances cost more than the query. The fields
    after ``headline`` are set by ``stream_page`` and the stream view."""

    pk: int
    feed_id: int
    title: str
    link: str
    published_at: datetime
    feed_title: str
    feed_url: str
    platform: str
    excerpt_source: str | None
    rank: float | None = None
    headline: str | None = None
    through: Through = field(default_factory=Through)
    through_text: str = ""
    excerpt: str = ""
    snippet: SafeString | None = None
    reading: dict = field(default_factory=dict)
    urls: dict = field(default_factory=dict)

    @property
    def id(self) -> int:
        return self.pk

    @property
    def source(self) -> str:
        """The feed's name, as ``Feed.display_title`` gives it."""
        return Feed.display_title_of(self.feed_title, self.feed_url)


@dataclass
class StreamPage:
    entries: list[StreamRow]
    next_cursor: str | None


# --- Cursor -------------------------------------------------------------------


def _epoch_us(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def cursor_encode(entry: Entry, *, rank: float | None = None) -> str:
    key = f"{_epoch_us(entry.published_at)}:{entry.pk}"
    raw = f"r:{rank!r}:{key}" if rank is not None else f"d:{key}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@dataclass(frozen=True)
class Cursor:
    published_at: datetime
    pk: int
    rank: float | None = None


def cursor_decode(value: str | None) -> Cursor | None:
    """The key in an opaque cursor, or None when it is absent or malformed."""
    if not value or len(value) > 200:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        parts = raw.split(":")
        if parts[0] == "d" and len(parts) == 3:
            rank, us, pk = None, int(parts[1]), int(parts[2])
        elif parts[0] == "r" and len(parts) == 4:
            rank, us, pk = float(parts[1]), int(parts[2]), int(parts[3])
        else:
            return None
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)
    except (ValueError, UnicodeDecodeError, OverflowError):
        return None
    if pk < 1 or (rank is not None and rank != rank):  # NaN
        return None
    return Cursor(published_at=moment, pk=pk, rank=rank)


# --- Filters --------------------------------------------------------------------


def _search_query(q: str) -> SearchQuery:
    return SearchQuery(q, search_type="websearch", config=SEARCH_CONFIG)


def _words(q: str) -> list[str]:
    return [word for word in q.replace('"', " ").split() if word not in ("or", "OR")][:8]


def _day_start(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def filtered_entries(filters: StreamFilters, *, tz: tzinfo = UTC) -> QuerySet[Entry]:
    """Visible entries narrowed by ``filters`` (no order, no page). Dates are
    whole days in ``tz`` (the member's time zone), ``until`` included."""
    return _filtered(filters, tz=tz, matches=search_matches(filters))


def search_matches(filters: StreamFilters) -> tuple[int, ...] | None:
    """For a full-text search with few matches, the ids of every match (see
    ``_sparse_matches``); None otherwise."""
    if not filters.q or not full_text():
        return None
    sparse = _sparse_matches(_search_query(filters.q), filters.q)
    return None if sparse is None else tuple(sparse)


def _filtered(filters: StreamFilters, *, tz: tzinfo, matches: tuple[int, ...] | None) -> QuerySet[Entry]:
    """``filtered_entries`` with the search's ``matches`` already decided: a
    function of its arguments alone but for the picks (read while building)."""
    if filters.narrows_subscriptions:
        # Narrower shared subscriptions imply the plain "shared" check; the
        # feed's own moderation is checked here (visible_q), once.
        feeds = _feeds_of(_narrowed_subscriptions(filters), few=bool(filters.team or filters.member))
        entries = Entry.objects.filter(feeds, Entry.objects.visible_q())
    else:
        entries = Entry.objects.shared()
    if filters.picks:
        entries = entries_picked(entries)
    if filters.platform:
        entries = entries.filter(feed__platform=filters.platform)
    if filters.since:
        entries = entries.filter(published_at__gte=_day_start(filters.since, tz))
    if filters.until:
        entries = entries.filter(published_at__lt=_day_start(filters.until + timedelta(days=1), tz))
    if filters.q:
        if full_text():
            entries = entries.filter(search_vector=_search_query(filters.q))
            if matches is not None:
                entries = entries.filter(pk__in=matches)
        else:
            for word in _words(filters.q):
                entries = entries.filter(
                    Q(title__icontains=word) | Q(summary__icontains=word) | Q(content__icontains=word)
                )
    return entries


def _feeds_of(subscriptions: QuerySet[Subscription], *, few: bool) -> Q:
    """Entries of the feeds of ``subscriptions``.

    ``few``: a team's or a member's subscriptions, at most a team's worth.
    Their feeds are gathered once and each entry met on the newest-first walk
    is looked up among them (``CASE WHEN feed_id IN (subquery)``: a sublink
    inside CASE stays a subplan, which PostgreSQL hashes). As a correlated
    EXISTS, the planner chose a nested-loop semi join that compared every
    entry walked with every one of the team's subscriptions: 12.8 ms against
    1.8 ms of SQL for a team's first page at 100k entries. A view narrowed by
    kind or topic alone draws on the whole organization's subscriptions,
    too many to gather for every page; its EXISTS is probed per entry through
    the subscriptions' feed index, which the planner does choose there."""
    if few:
        among = When(feed_id__in=subscriptions.order_by().values("feed_id"), then=Value(True))
        return Q(Case(among, default=Value(False), output_field=BooleanField()))
    return Q(Exists(subscriptions.filter(feed=OuterRef("feed"))))


def _narrowed_subscriptions(filters: StreamFilters) -> QuerySet[Subscription]:
    subs = Subscription.objects.shared_by_members()
    if filters.kind:
        subs = subs.filter(kind=filters.kind)
    if filters.team:
        subs = subs.filter(member__team_id=filters.team)
    if filters.member:
        subs = subs.filter(member_id=filters.member)
    if filters.topic:
        if full_text():
            subs = subs.filter(topics__contains=[filters.topic])
        else:  # SQLite has no JSON containment; match the quoted item in the JSON text.
            subs = subs.filter(topics__icontains=f'"{filters.topic}"')
    return subs


def _sparse_matches(query: SearchQuery, text: str) -> list[int] | None:
    """The ids of every match when there are few (under SPARSE_MATCHES), else None.

    Newest-first pages walk the keyset index and stop after a page of
    matches: quick for a common word, but for a rare one the walk reads the
    whole table to find a handful (seconds at a million entries). One probe
    through the GIN index tells the two apart; few matches are then fetched
    by id and sorted, never found by walking.

    The probe builds the GIN bitmap of every match, so for a common word it
    costs more than the page it decides (10 ms of a 30 ms search at 100k
    entries). A word with many matches keeps them (entries are added far
    more than hidden), so that verdict is remembered for an hour; it only
    chooses the plan, and either plan finds the same rows. Few matches are
    never remembered: a new entry must show at once.
    """
    dense_key = "feeds:search-dense:v1:" + hashlib.sha256(f"{SEARCH_CONFIG}\0{text}".encode()).hexdigest()
    if cache.get(dense_key):
        return None
    ids = list(Entry.objects.filter(search_vector=query).order_by().values_list("pk", flat=True)[:SPARSE_MATCHES])
    if len(ids) < SPARSE_MATCHES:
        return ids
    cache.set(dense_key, True, DENSE_CACHE_SECONDS)
    return None


def _after(entries: QuerySet[Entry], cursor: Cursor) -> QuerySet[Entry]:
    """Rows strictly after the cursor in (published_at, id) descending order.
    ``published_at <= t`` bounds the index range; the exclusion drops the few
    rows of the same instant at or above the cursor's id."""
    return entries.filter(published_at__lte=cursor.published_at).exclude(
        published_at=cursor.published_at, id__gte=cursor.pk
    )


def _excerpt_source() -> Left:
    return Left(Coalesce(NullIf(F("summary"), Value("")), F("content"), output_field=TextField()), 4000)


def stream_page(
    filters: StreamFilters,
    *,
    cursor: str | None = None,
    tz: tzinfo = UTC,
    page_size: int = PAGE_SIZE,
    narrow: Callable[[QuerySet[Entry]], QuerySet[Entry]] | None = None,
) -> StreamPage:
    """One page of the stream: ``page_size`` entries after ``cursor``, with
    ``through`` (names), ``excerpt`` and, when searching, ``snippet`` set on
    each entry. A fixed number of queries whatever the page size.
    ``narrow`` narrows the filtered entries further (the reader's "Unread
    only", which depends on who is reading)."""
    key = cursor_decode(cursor)
    matches = search_matches(filters)
    extra = _extra_columns(filters)

    def build(**at) -> QuerySet[Entry]:
        # ``at``: a date-ordered cursor's instant and id, passed to the memo
        # as values, so every later page shares one compiled query.
        after = Cursor(at["published_at"], at["pk"]) if at else key
        return _page_rows(filters, key=after, tz=tz, page_size=page_size, narrow=narrow, matches=matches)

    if filters.picks or narrow is not None:
        # Built from data read while building (the picks, the reader's
        # marks and window): compiled afresh each time.
        values = list(build())
    else:
        # Every other page's SQL is a function of these inputs alone.
        zone = tz if filters.since or filters.until else None  # days are the only thing tz changes
        shape = ("stream-page", filters, zone, page_size, matches)
        # A search is not prepared: its best plan depends on the word (see core.querymemo).
        prepare = not filters.q
        if key is not None and key.rank is None:
            values = values_rows((*shape, "after"), build, prepare=prepare, published_at=key.published_at, pk=key.pk)
        else:
            values = values_rows((*shape, key), build, prepare=prepare)
    fixed = len(values[0]) - len(extra) if values else 0
    rows = [StreamRow(*row[:fixed], **dict(zip(extra, row[fixed:], strict=True))) for row in values]
    more = len(rows) > page_size
    rows = rows[:page_size]
    through = through_for([row.feed_id for row in rows], feeds_visible=True)
    # PostgreSQL highlighted the snippets in the page's own query (headline).
    snippets = snippets_for(rows, filters.q) if filters.q and "headline" not in extra else {}
    for row in rows:
        row.through = through.get(row.feed_id, Through())
        row.through_text = through_text(row.through)
        row.excerpt = excerpt_of(row.excerpt_source)
        row.snippet = _headline_snippet(row.headline) if "headline" in extra else snippets.get(row.pk)
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = cursor_encode(last, rank=last.rank)
    return StreamPage(entries=rows, next_cursor=next_cursor)


def _page_rows(
    filters: StreamFilters,
    *,
    key: Cursor | None,
    tz: tzinfo,
    page_size: int,
    narrow: Callable[[QuerySet[Entry]], QuerySet[Entry]] | None,
    matches: tuple[int, ...] | None,
) -> QuerySet:
    """The page's query: ``page_size + 1`` rows of StreamRow's columns, then
    ``_extra_columns``."""
    entries = _filtered(filters, tz=tz, matches=matches)
    if narrow is not None:
        entries = narrow(entries)
    rank: SearchRank | None = None
    if filters.by_relevance:
        window = entries.order_by("-published_at", "-id").values("pk")[:RELEVANCE_WINDOW]
        rank = SearchRank(F("search_vector"), _search_query(filters.q))
        entries = Entry.objects.filter(pk__in=window).annotate(rank=rank)
        if key is not None and key.rank is not None:
            # ts_rank is a real (float4): compare as real, or the cursor's
            # value would never equal the row's own rank.
            key_rank = RawSQL("%s::real", [key.rank])
            entries = entries.filter(
                Q(rank__lt=key_rank)
                | Q(rank=key_rank, published_at__lt=key.published_at)
                | Q(rank=key_rank, published_at=key.published_at, id__lt=key.pk)
            )
        entries = entries.order_by("-rank", "-published_at", "-id")
    else:
        if key is not None and key.rank is None:
            entries = _after(entries, key)
        entries = entries.order_by("-published_at", "-id")
    extra = _extra_columns(filters)
    if "headline" in extra:
        # Computed for the rows the page returns only (ts_headline's cost
        # makes PostgreSQL evaluate it after the limit).
        entries = entries.annotate(headline=_headline(filters.q))
    return entries.values_list(*STREAM_ROW_FIELDS, _excerpt_source(), *extra)[: page_size + 1]


def _extra_columns(filters: StreamFilters) -> tuple[str, ...]:
    """The page's columns after StreamRow's first ones: a relevance search's
    ``rank``, a full-text search's ``headline``."""
    return (*(("rank",) if filters.by_relevance else ()), *(("headline",) if filters.q and full_text() else ()))


# --- Names ------------------------------------------------------------------------


def through_for(feed_ids: list[int], *, feeds_visible: bool = False) -> dict[int, Through]:
    """Who each feed comes through, from shared subscriptions only: one query
    for any number of feeds. ``feeds_visible``: the feeds are those of entries
    just read through ``Entry.objects.shared()``, which checked their
    moderation, so the query need not join them again."""
    result: dict[int, Through] = defaultdict(Through)
    if not feed_ids:
        return result
    ids = tuple(sorted(set(feed_ids)))

    def build() -> QuerySet:
        subscriptions = Subscription.objects.shared_by_members() if feeds_visible else Subscription.objects.shared()
        return (
            subscriptions.filter(feed_id__in=ids)
            .order_by("member__display_name", "member_id")
            .values_list("feed_id", "kind", "member_id", "member__display_name", "member__user__email")
        )

    # A page's feeds change only as entries arrive: the same ids, the same SQL.
    rows = values_rows(("through", feeds_visible, ids), build)
    account = Subscription.Kind.ACCOUNT
    for feed_id, kind, member_id, display_name, email in rows:
        person = Person(member_id, Member.name_of(display_name, email))
        (result[feed_id].authors if kind == account else result[feed_id].sharers).append(person)
    return result


# --- Excerpts and snippets ------------------------------------------------------------

# Stored HTML is sanitized (no comments, scripts or attributes holding ">"),
# so a tag is "<" up to the next ">"; a tag cut by the excerpt's length limit
# runs to the end. The result is plain text, escaped again by the template.
_TAG = re.compile(r"<[^>]*(?:>|$)")


def plain_text(value: str | None) -> str:
    """Visible text of stored (sanitized) HTML, whitespace collapsed."""
    if not value:
        return ""
    return " ".join(html.unescape(_TAG.sub(" ", value)).split())


def excerpt_of(value: str | None, limit: int = EXCERPT_CHARS) -> str:
    """Plain text cut at a word boundary (the template escapes it)."""
    text = plain_text(value)
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(" ,.;:") + "…"


def _highlight(text: str) -> SafeString:
    """Escape everything, then turn the match markers into <mark>: the only
    markup a snippet can carry."""
    escaped = escape(text)
    return mark_safe(escaped.replace(_START, "<mark>").replace(_STOP, "</mark>"))  # noqa: S308


def snippets_for(entries: list[Entry], q: str) -> dict[int, SafeString]:
    """Highlighted snippets for a page of search results (one query on
    PostgreSQL, none on SQLite)."""
    if not entries or not q:
        return {}
    if full_text():
        return _snippets_postgresql([entry.pk for entry in entries], q)
    return {entry.pk: _snippet_plain(entry.title + " · " + plain_text(entry.excerpt_source), q) for entry in entries}


def _stripped(name: str) -> Func:
    # Tags out, then the marker characters out (so only ts_headline adds them).
    no_tags = Func(
        Left(Coalesce(F(name), Value("")), 20000),
        Value("<[^>]*>"),
        Value(" "),
        Value("g"),
        function="regexp_replace",
        output_field=TextField(),
    )
    return Func(no_tags, Value(_START + _STOP), Value(""), function="translate", output_field=TextField())


def _headline(q: str) -> SearchHeadline:
    """The entry's summary and content with the search's words marked."""
    document = Concat(_stripped("summary"), Value(" … "), _stripped("content"), output_field=TextField())
    return SearchHeadline(
        document,
        _search_query(q),
        config=SEARCH_CONFIG,
        start_sel=_START,
        stop_sel=_STOP,
        max_words=30,
        min_words=12,
        max_fragments=2,
        fragment_delimiter=" … ",
    )


def _headline_snippet(text: str | None) -> SafeString | None:
    """A headline as the snippet shown, or None when no word was marked."""
    # The document is plain text with entities still encoded: decode them,
    # then _highlight escapes everything again.
    text = html.unescape(text or "")
    return _highlight(" ".join(text.split())) if _START in text else None


def _snippets_postgresql(pks: list[int], q: str) -> dict[int, SafeString]:
    rows = Entry.objects.filter(pk__in=pks).annotate(headline=_headline(q)).values_list("pk", "headline")
    snippets = {pk: _headline_snippet(text) for pk, text in rows}
    return {pk: snippet for pk, snippet in snippets.items() if snippet is not None}


def _snippet_plain(text: str, q: str) -> SafeString | None:
    words = [w for w in _words(q) if not w.startswith("-")]
    if not words:
        return None
    pattern = re.compile("|".join(re.escape(w) for w in words), re.I)
    text = text.replace(_START, "").replace(_STOP, "")
    first = pattern.search(text)
    if first is None:
        return None
    start = max(0, first.start() - SNIPPET_CHARS // 3)
    if start:
        start = text.find(" ", start) + 1 or start
    window = text[start : start + SNIPPET_CHARS]
    marked = pattern.sub(lambda m: f"{_START}{m.group(0)}{_STOP}", window)
    prefix = "… " if start else ""
    suffix = " …" if start + SNIPPET_CHARS < len(text) else ""
    return _highlight(prefix + marked + suffix)


# --- Filter choices ---------------------------------------------------------------


def filter_choices() -> dict[str, list]:
    """Teams, members, platforms and topics that can narrow the stream
    (only what shared subscriptions bring). Cached a few minutes: it is the
    same for everyone and costs a few queries."""
    cached = cache.get(CHOICES_CACHE_KEY)
    if cached is not None:
        return cached
    shared = Subscription.objects.shared()
    member_rows = (
        Member.objects.filter(pk__in=shared.values("member_id"))
        .select_related("user")
        .only("display_name", "user__email", "team_id")
        .order_by("display_name", "pk")
    )
    members = [(m.pk, m.name) for m in member_rows]
    teams = list(Team.objects.filter(members__in=shared.values("member_id")).distinct().values_list("pk", "name"))
    teams.sort(key=lambda t: t[1].lower())
    platforms = sorted(set(shared.values_list("feed__platform", flat=True).distinct()))
    topics: set[str] = set()
    for row in shared.exclude(topics=[]).values_list("topics", flat=True):
        topics.update(str(t) for t in row or [] if t)
    choices = {"teams": teams, "members": members, "platforms": platforms, "topics": sorted(topics)}
    cache.set(CHOICES_CACHE_KEY, choices, CHOICES_CACHE_SECONDS)
    return choices


def filter_choices_forget() -> None:
    """Drop the cached filter choices, so the next stream page reads them anew
    (offboarding: a leaver must not stay offered as a member to filter by)."""
    cache.delete(CHOICES_CACHE_KEY)


def through_entry(entry: Entry) -> Through:
    """Who a visible entry (read through ``Entry.objects.shared()``) comes through."""
    return through_for([entry.feed_id], feeds_visible=True).get(entry.feed_id, Through())
