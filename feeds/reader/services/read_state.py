"""Read state: which entries of the shared stream each member has read.

The one module for it: the stream page, the entry page, the home page, the
Google Reader API and the Fever API all read and write read state here.

How it is stored, and why
-------------------------
At a million entries and a thousand members, a row per (member, entry) is a
billion rows; a row per *read* entry grows with everything everyone reads.
Instead, for each member:

- a **marker** (``ReadMarker.read_through_id``): every entry whose id is at
  most the marker counts as read. Entry ids grow as entries arrive, so
  "mark all as read" is one number moved up to the newest entry the member
  saw, and entries that arrive later (higher ids) stay unread;
- an **unread window** (``READER_UNREAD_DAYS``, 30 by default): entries
  published longer ago than that count as read, so a new member, or one back
  from a long holiday, starts with the last month unread, not with years;
- **exceptions** (``ReadMark``): an entry read above the marker (opened,
  marked read one by one, or by a filtered "mark all as read"), or an entry
  explicitly kept unread. An exception always wins over the rule.

So an entry the member can see is unread exactly when it is kept unread, or
when it has no exception, its id is above the marker and it was published
within the window. ``unread_q`` is that sentence in SQL; the "Unread only"
filter, every unread count and every "is it read?" answer use it, so a count
always equals what the filter lists.

Exceptions stay few: marking something the way the rule already says
deletes its exception instead of writing one; "mark all as read" of the
whole stream moves the marker and drops the exceptions below it; and
``read_state_compact`` (after every "mark all as read", and nightly) drops
read exceptions the rule now covers and moves the marker up past every entry
already read. Entries kept unread are capped at ``KEPT_UNREAD_MAX``.

One consequence of a marker: an entry with a low id that becomes visible
later (a colleague starts sharing a source plnorg already fetched for
someone else) counts as read for members whose marker is past it.

Visibility is never decided here: callers pass querysets built by the
stream (``feeds.stream.filtered_entries``), so read state can only narrow
what the member may see.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from feeds.models import Entry, SavedEntry
from members.models import Member

from ..models import ReadMark, ReadMarker

KEPT_UNREAD_MAX = 1000


class ReadStateRefused(ValueError):
    """A change that cannot be made; ``message`` says why, for the member."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ReadState:
    """What decides a member's unread entries at one moment."""

    member_id: int
    read_through_id: int
    window_start: datetime
    # Entries explicitly kept unread: id -> published_at (bounds the scans).
    kept_unread: dict[int, datetime]

    @classmethod
    def now(cls, *, member_id: int, read_through_id: int | None, kept_unread: dict | None = None) -> ReadState:
        """The state with the unread window ending now (no marker yet: 0)."""
        return cls(
            member_id=member_id,
            read_through_id=read_through_id or 0,
            window_start=window_start(),
            kept_unread=kept_unread or {},
        )

    def is_unread_by_rule(self, *, entry_id: int, published_at: datetime) -> bool:
        return entry_id > self.read_through_id and published_at >= self.window_start

    @property
    def scan_from(self) -> datetime:
        """No unread entry was published before this: unread scans stop here."""
        return min([self.window_start, *self.kept_unread.values()])


def window_start(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.READER_UNREAD_DAYS)


def read_state_get(*, member: Member, kept_unread: bool = True) -> ReadState:
    """The member's marker and entries kept unread (two small queries; the
    second is skipped with ``kept_unread=False`` when only the rule is needed)."""
    marker = ReadMarker.objects.filter(member=member).values_list("read_through_id", flat=True).first()
    kept: dict[int, datetime] = {}
    if kept_unread:
        kept = dict(
            ReadMark.objects.filter(member=member, is_read=False).values_list("entry_id", "entry__published_at")
        )
    return ReadState.now(member_id=member.pk, read_through_id=marker, kept_unread=kept)


def _read_marks(state: ReadState) -> QuerySet[ReadMark]:
    return ReadMark.objects.filter(member_id=state.member_id, entry=OuterRef("pk"), is_read=True)


def unread_q(state: ReadState) -> Q:
    """Entries unread for the member (to combine with a visible queryset)."""
    by_rule = Q(pk__gt=state.read_through_id, published_at__gte=state.window_start) & ~Exists(_read_marks(state))
    if state.kept_unread:
        return by_rule | Q(pk__in=list(state.kept_unread))
    return by_rule


def entries_unread(entries: QuerySet[Entry], *, state: ReadState) -> QuerySet[Entry]:
    """Narrow visible ``entries`` to the member's unread ones. The publication
    bound lets a newest-first scan stop at the window instead of walking the
    whole table when few entries are unread."""
    return entries.filter(published_at__gte=state.scan_from).filter(unread_q(state))


def entries_read(entries: QuerySet[Entry], *, state: ReadState) -> QuerySet[Entry]:
    """Narrow visible ``entries`` to the member's read ones."""
    return entries.exclude(unread_q(state))


def unread_among(*, state: ReadState, entries: Iterable[Entry]) -> set[int]:
    """Which of these (already fetched) entries are unread: one query for
    their exceptions, the rule in Python."""
    entries = list(entries)
    if not entries:
        return set()
    marks = dict(
        ReadMark.objects.filter(member_id=state.member_id, entry_id__in=[e.pk for e in entries]).values_list(
            "entry_id", "is_read"
        )
    )
    return _unread_by_marks(state, entries, marks)


@dataclass(frozen=True)
class PageReading:
    """What one stream page needs of read state, read in one round trip."""

    state: ReadState
    unread: set[int]
    saved: set[int]
    # The newest entry id now: the bound of the page's "mark all as read".
    newest_id: int


# Each branch's rows: (entry id, is_read, what the row is).
_MARK, _SAVE, _MARKER, _NEWEST = 1, 2, 3, 4


def page_reading(*, member_id: int, entries: Iterable[Entry], state: ReadState | None = None) -> PageReading:
    """Which of a page's (already fetched, visible) entries are unread and
    which are saved, the member's marker unless ``state`` is given, and the
    newest entry id: one query of four UNION ALL branches.

    Written as SQL (portable to PostgreSQL and SQLite, names from the models,
    values as parameters) because it runs for every stream page, and there
    building the same four lookups through the ORM cost three times the
    query itself. Nothing here decides visibility: the entries come from
    the stream."""
    entries = list(entries)
    ids = [e.pk for e in entries]
    qn = connection.ops.quote_name
    branches, params = [], []
    if ids:
        marks_of = ", ".join(["%s"] * len(ids))
        branches += [
            f"SELECT entry_id, is_read, {_MARK} FROM {qn(ReadMark._meta.db_table)} "  # noqa: S608 - names from the models
            f"WHERE member_id = %s AND entry_id IN ({marks_of})",
            f"SELECT entry_id, NULL, {_SAVE} FROM {qn(SavedEntry._meta.db_table)} "  # noqa: S608 - names from the models
            f"WHERE member_id = %s AND entry_id IN ({marks_of})",
        ]
        params += [member_id, *ids, member_id, *ids]
    if state is None:
        branches.append(
            f"SELECT read_through_id, NULL, {_MARKER} FROM {qn(ReadMarker._meta.db_table)} WHERE member_id = %s"  # noqa: S608 - names from the models
        )
        params.append(member_id)
    branches.append(f"SELECT MAX(id), NULL, {_NEWEST} FROM {qn(Entry._meta.db_table)}")  # noqa: S608 - names from the models
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(branches), params)
        rows = cursor.fetchall()
    marks: dict[int, bool] = {}
    saved: set[int] = set()
    marker = newest = 0
    for value, is_read, kind in rows:
        if kind == _MARK:
            marks[value] = bool(is_read)  # SQLite answers 0 or 1
        elif kind == _SAVE:
            saved.add(value)
        elif kind == _MARKER:
            marker = value
        else:
            newest = value or 0
    if state is None:
        state = ReadState.now(member_id=member_id, read_through_id=marker)
    return PageReading(state=state, unread=_unread_by_marks(state, entries, marks), saved=saved, newest_id=newest)


def _unread_by_marks(state: ReadState, entries: list[Entry], marks: dict[int, bool]) -> set[int]:
    """The rule, with the entries' exceptions (``marks``: entry id → is_read)."""
    unread = set()
    for entry in entries:
        is_read = marks.get(entry.pk)
        if is_read is None:
            if state.is_unread_by_rule(entry_id=entry.pk, published_at=entry.published_at):
                unread.add(entry.pk)
        elif not is_read:
            unread.add(entry.pk)
    return unread


def unread_count(entries: QuerySet[Entry], *, state: ReadState, limit: int | None = None) -> int:
    """How many of ``entries`` are unread. With ``limit``, counting stops at
    ``limit + 1`` (a result above ``limit`` means "more than limit"): the
    count walks every unread entry in the window, tens of thousands for a
    member who never marks anything read, and a page that only says "more
    than 1,000" need not pay for them."""
    unread = entries_unread(entries, state=state).order_by()
    if limit is None:
        return unread.count()
    return unread.values("pk")[: limit + 1].count()


@dataclass(frozen=True)
class FeedUnread:
    count: int
    newest_seen_at: datetime


def unread_by_feed(entries: QuerySet[Entry], *, state: ReadState) -> dict[int, FeedUnread]:
    """Unread entries per feed, with the newest unread one's arrival (one query)."""
    rows = (
        entries_unread(entries, state=state)
        .order_by()
        .values("feed_id")
        .annotate(count=Count("pk"), newest=Max("first_seen_at"))
    )
    return {row["feed_id"]: FeedUnread(count=row["count"], newest_seen_at=row["newest"]) for row in rows}


# --- Changing read state ------------------------------------------------------------


def entries_mark(*, member: Member, entries: QuerySet[Entry], entry_ids: Collection[int], read: bool) -> list[int]:
    """Mark the given entries read (``read=True``) or kept unread, among
    ``entries`` (the visible queryset): ids outside it are ignored, so nobody
    can mark what they cannot see. Returns the ids marked. One transaction.

    Reading writes an exception only above the marker and inside the window
    (below it the rule already says read); keeping unread always writes one,
    so a kept entry stays unread when it leaves the window."""
    ids = set(entry_ids)
    if not ids:
        return []
    with transaction.atomic():
        marker = _marker_locked(member)
        rows = list(entries.filter(pk__in=ids).order_by().values_list("pk", "published_at"))
        found = [pk for pk, _published in rows]
        if read:
            _marks_read(
                member=member,
                state=ReadState.now(member_id=member.pk, read_through_id=marker.read_through_id),
                rows=rows,
            )
        else:
            kept = ReadMark.objects.filter(member=member, is_read=False).exclude(entry_id__in=found).count()
            if kept + len(found) > KEPT_UNREAD_MAX:
                raise ReadStateRefused(
                    ngettext(
                        "At most %(count)d entry can be kept unread; mark some as read first.",
                        "At most %(count)d entries can be kept unread; mark some as read first.",
                        KEPT_UNREAD_MAX,
                    )
                    % {"count": KEPT_UNREAD_MAX}
                )
            _marks_upsert(member=member, entry_ids=found, read=False)
    return found


def entry_open(*, member: Member, entry: Entry) -> None:
    """Opening an entry's page marks it read. Nothing is written when it is
    read already: by the rule with no exception saying unread, or by an
    exception saying read (opening it again keeps when it was first read).

    One query reads the entry's exception and the member's marker; then at
    most one write. No lock is taken, unlike ``entries_mark``: a read
    exception agrees with every position of the marker, so a "mark all as
    read" at the same moment can only leave it redundant (compaction drops
    it), never wrong."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT is_read FROM {qn(ReadMark._meta.db_table)} WHERE member_id = %s AND entry_id = %s), "  # noqa: S608 - names from the models
            f"(SELECT read_through_id FROM {qn(ReadMarker._meta.db_table)} WHERE member_id = %s)",
            [member.pk, entry.pk, member.pk],
        )
        mark, marker = cursor.fetchone()
    if mark is not None:
        mark = bool(mark)  # SQLite answers 0 or 1
    if mark is True:
        return  # an exception says read (whatever the rule says)
    state = ReadState.now(member_id=member.pk, read_through_id=marker)
    if mark is None and not state.is_unread_by_rule(entry_id=entry.pk, published_at=entry.published_at):
        return
    _marks_read(member=member, state=state, rows=[(entry.pk, entry.published_at)])


def _marks_read(*, member: Member, state: ReadState, rows: list[tuple[int, datetime]]) -> None:
    """Record these entries (id, published_at) as read: an exception where the
    rule says unread, and none where it says read already (an exception that
    said "kept unread" goes), so exceptions stay few."""
    by_rule = {pk for pk, published in rows if not state.is_unread_by_rule(entry_id=pk, published_at=published)}
    if by_rule:
        ReadMark.objects.filter(member=member, entry_id__in=by_rule).delete()
    _marks_upsert(member=member, entry_ids=[pk for pk, _published in rows if pk not in by_rule], read=True)


@dataclass(frozen=True)
class ReadBound:
    """How far "mark all as read" goes: entries up to ``newest_id`` (the
    newest entry when the member looked), and with ``arrived_by`` only those
    that had arrived by then (the reading apps give a time, not an id)."""

    newest_id: int
    arrived_by: datetime | None = None


def read_bound_at(moment: datetime) -> ReadBound:
    """The bound for "everything that had arrived by ``moment``"."""
    newest = Entry.objects.filter(first_seen_at__lte=moment).aggregate(newest=Max("pk"))["newest"] or 0
    return ReadBound(newest_id=newest, arrived_by=moment)


def read_bound_now() -> ReadBound:
    return ReadBound(newest_id=Entry.objects.aggregate(newest=Max("pk"))["newest"] or 0)


def entries_mark_all_read(*, member: Member, entries: QuerySet[Entry] | None, bound: ReadBound) -> None:
    """Mark as read everything up to ``bound`` in ``entries`` (a narrowed
    visible queryset), or in the whole stream when ``entries`` is None.

    The whole stream moves the marker (and drops the exceptions below it);
    a narrower view writes a read exception for each of its unread entries
    within the bound. Entries that arrived after the bound stay unread.
    Then ``read_state_compact``. One transaction: all of it or nothing."""
    with transaction.atomic():
        marker = _marker_locked(member)
        if entries is None:
            _move_marker(member=member, marker=marker, bound=bound)
        else:
            state = read_state_get(member=member)
            scope = entries_unread(entries, state=state).filter(pk__lte=bound.newest_id)
            if bound.arrived_by is not None:
                scope = scope.filter(first_seen_at__lte=bound.arrived_by)
            _marks_upsert_select(member=member, entries=scope, read=True)
        read_state_compact(member=member)


def _move_marker(*, member: Member, marker: ReadMarker, bound: ReadBound) -> None:
    old = marker.read_through_id
    if bound.arrived_by is not None and bound.newest_id > old:
        # Below the new marker but arrived after the bound (a fetch that
        # finished out of order): they were unread and must stay so.
        state = read_state_get(member=member)
        late = entries_unread(Entry.objects.all(), state=state).filter(
            pk__gt=old, pk__lte=bound.newest_id, first_seen_at__gt=bound.arrived_by
        )
        _marks_upsert_select(member=member, entries=late, read=False)
        late_ids = set(late.values_list("pk", flat=True))
    else:
        late_ids = set()
    if bound.newest_id > old:
        marker.read_through_id = bound.newest_id
        marker.updated_at = timezone.now()
        marker.save(update_fields=["read_through_id", "updated_at"])
    ReadMark.objects.filter(member=member, entry_id__lte=bound.newest_id).exclude(entry_id__in=late_ids).delete()


def read_state_compact(*, member: Member) -> None:
    """Drop read exceptions the rule covers, and move the marker up past the
    entries already read (to just below the oldest one still unread by rule,
    or to the newest entry when none is), dropping the exceptions it passes.
    Changes no answer for any visible entry."""
    with transaction.atomic():
        marker = _marker_locked(member)
        start = window_start()
        ReadMark.objects.filter(member=member, is_read=True).filter(
            Q(entry_id__lte=marker.read_through_id) | Q(entry__published_at__lt=start)
        ).delete()
        state = ReadState(
            member_id=member.pk, read_through_id=marker.read_through_id, window_start=start, kept_unread={}
        )
        oldest_unread = (
            Entry.objects.shared()
            .filter(pk__gt=marker.read_through_id, published_at__gte=start)
            .filter(~Exists(_read_marks(state)))
            .aggregate(oldest=Min("pk"))["oldest"]
        )
        if oldest_unread is not None:
            through = oldest_unread - 1
        else:
            through = Entry.objects.aggregate(newest=Max("pk"))["newest"] or 0
        if through > marker.read_through_id:
            marker.read_through_id = through
            marker.updated_at = timezone.now()
            marker.save(update_fields=["read_through_id", "updated_at"])
            ReadMark.objects.filter(member=member, is_read=True, entry_id__lte=through).delete()


def read_state_delete(*, member: Member) -> None:
    ReadMark.objects.filter(member=member).delete()
    ReadMarker.objects.filter(member=member).delete()


def _marker_locked(member: Member) -> ReadMarker:
    """The member's marker, locked for this transaction (made at 0 if new),
    so two "mark all as read" never interleave."""
    ReadMarker.objects.get_or_create(member=member)
    return ReadMarker.objects.select_for_update().get(member=member)


def _marks_upsert(*, member: Member, entry_ids: Iterable[int], read: bool) -> None:
    now = timezone.now()
    rows = [ReadMark(member=member, entry_id=pk, is_read=read, marked_at=now) for pk in entry_ids]
    if rows:
        ReadMark.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["member", "entry"],
            update_fields=["is_read", "marked_at"],
            batch_size=500,
        )


def _marks_upsert_select(*, member: Member, entries: QuerySet[Entry], read: bool) -> None:
    """Write an exception for every entry of ``entries`` in one INSERT …
    SELECT … ON CONFLICT (PostgreSQL and SQLite both read it): a filtered
    "mark all as read" may cover thousands of entries."""
    select_sql, params = entries.order_by().values(chosen_id=F("pk")).query.sql_with_params()
    table = connection.ops.quote_name(ReadMark._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    sql = (
        f"INSERT INTO {table} (member_id, entry_id, is_read, marked_at) "  # noqa: S608 - names from the model, values as parameters
        f"SELECT %s, chosen.chosen_id, %s, %s FROM ({select_sql}) AS chosen WHERE true "
        "ON CONFLICT (member_id, entry_id) DO UPDATE SET is_read = excluded.is_read, marked_at = excluded.marked_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [member.pk, read, now, *params])


def marked_message(*, read: bool, count: int) -> str:
    if read:
        return ngettext("Marked %(count)d entry as read.", "Marked %(count)d entries as read.", count) % {
            "count": count
        }
    return ngettext("Kept %(count)d entry unread.", "Kept %(count)d entries unread.", count) % {"count": count}


def all_read_message() -> str:
    return _("Marked as read. Entries that arrive from now on are new.")
