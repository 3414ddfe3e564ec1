"""The Google Reader API, as FreshRSS implements it, under /api/greader/.

Clients sign in with ClientLogin (the member's email and an app password),
then send ``Authorization: GoogleLogin auth=<Auth>`` on every request; the
session and its cookie play no part (so no CSRF token either). POST calls
may carry the action token ``T`` from ``reader/api/0/token``.

Answers are JSON (``output=json``, the only output) or the protocol's plain
text ("OK", ClientLogin's lines). A missing or wrong Auth answers 401 with
"Unauthorized"; input the API cannot act on answers 400 with
"Bad Request: " and what is wrong, and changes nothing.

Item ids are entry ids: long form ``tag:google.com,2005:reader/item/`` and
16 hex digits in items, short decimal form in ``stream/items/ids``; both are
accepted everywhere. Items are in the web stream's order (newest published
first; ``r=o`` oldest first). Times: ``published`` is the publication date;
``crawlTimeMsec``/``timestampUsec`` and the ``ot``/``nt``/``ts`` parameters
are the arrival time (when plnorg first fetched the entry).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from feeds.curation import entry_save, entry_unsave
from feeds.sanitize import sanitize_html

from ..services.app_passwords import (
    SignInRefused,
    app_password_sign_in,
    greader_action_token,
    greader_action_token_ok,
    greader_auth_token,
    greader_token_check,
)
from ..services.read_state import (
    ReadBound,
    ReadStateRefused,
    entries_mark,
    entries_mark_all_read,
    read_bound_at,
    read_bound_now,
    read_state_get,
    unread_among,
    unread_by_feed,
)
from ..services.streams import (
    KEPT_UNREAD,
    READ,
    READING_LIST,
    STARRED,
    StreamRefused,
    arrived_between,
    catalog_for,
    continuation_decode,
    entries_in_state,
    entries_page,
    item_categories,
    saved_among,
    scope_of,
    visible_entries,
)
from ..services.subscriptions import (
    own_subscription,
    reader_subscribe,
    reader_subscriptions_edit,
    reader_unsubscribe,
)

TEXT = "text/plain; charset=utf-8"
ITEM_PREFIX = "tag:google.com,2005:reader/item/"
CONTENTS_MAX = 1000  # n for stream/contents, and i per request
IDS_MAX = 10000  # n for stream/items/ids
DEFAULT_COUNT = 20


class BadRequest(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _text(body: str, status: int = 200, **headers: str) -> HttpResponse:
    return HttpResponse(body, status=status, content_type=TEXT, headers=headers or None)


def _json(data: dict, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False, "separators": (",", ":")})


def _too_many_items() -> str:
    return _("at most %(max)d items per request.") % {"max": CONTENTS_MAX}


def unauthorized(message: str) -> HttpResponse:
    return _text(f"Unauthorized: {message}\n", status=401, **{"Google-Bad-Token": "true"})


def bad_request(message: str) -> HttpResponse:
    return _text(f"Bad Request: {message}\n", status=400)


def _auth_header_token(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _space, rest = header.partition(" ")
    if scheme.lower() != "googlelogin" or not rest.strip().lower().startswith("auth="):
        return None
    return rest.strip()[len("auth=") :]


def api(*, methods: tuple[str, ...], action: bool = False):
    """An authenticated endpoint: the app password from the Auth token as
    ``request.app_password`` (its member as ``request.reader_member``), the
    action token checked on POST when ``action``, the protocol's errors."""

    def wrap(view):
        @csrf_exempt
        @never_cache
        @functools.wraps(view)
        def inner(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            token = _auth_header_token(request)
            if token is None:
                return unauthorized(
                    _("send the header Authorization: GoogleLogin auth= and the Auth from ClientLogin.")
                )
            app_password = greader_token_check(token)
            if app_password is None:
                return unauthorized(_("this Auth token is not valid (revoked, or the account was deactivated)."))
            if request.method not in methods:
                return _text(f"Method Not Allowed: use {' or '.join(methods)}.\n", status=405, Allow=", ".join(methods))
            try:
                if (request.GET.get("output") or "json") != "json":
                    return bad_request(_("only output=json is available."))
                if (
                    action
                    and request.method == "POST"
                    and not greader_action_token_ok(app_password, request.POST.get("T"))
                ):
                    return unauthorized(_("the action token T is not valid: fetch a new one from reader/api/0/token."))
                request.app_password = app_password
                request.reader_member = app_password.member
                return view(request, *args, **kwargs)
            except (BadRequest, StreamRefused, ReadStateRefused) as exc:
                return bad_request(exc.message)
            except TooManyFieldsSent:  # Django's own cap on form fields, met before ours
                return bad_request(_too_many_items())

        return inner

    return wrap


# --- Parameters -----------------------------------------------------------------------


def _param(request: HttpRequest, name: str) -> str | None:
    value = request.POST.get(name) if request.method == "POST" else None
    return value if value is not None else request.GET.get(name)


def _params(request: HttpRequest, name: str) -> list[str]:
    values = request.POST.getlist(name) if request.method == "POST" else []
    return values or request.GET.getlist(name)


def _count(request: HttpRequest, *, maximum: int) -> int:
    raw = _param(request, "n")
    if raw in (None, ""):
        return DEFAULT_COUNT
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise BadRequest(_("n must be a whole number from 1 to %(max)d, not %(n)r.") % {"max": maximum, "n": raw})
    return int(raw)


def _oldest_first(request: HttpRequest) -> bool:
    order = _param(request, "r") or "d"
    if order not in ("d", "n", "o"):
        raise BadRequest(_("r must be d or n (newest first) or o (oldest first), not %(r)r.") % {"r": order})
    return order == "o"


def _moment(request: HttpRequest, name: str, *, per_second: int) -> datetime | None:
    raw = _param(request, name)
    if raw in (None, "", "0"):
        return None
    if not raw.isdigit() or len(raw) > 19:
        raise BadRequest(_("%(name)s must be a Unix time, not %(value)r.") % {"name": name, "value": raw})
    try:
        return datetime.fromtimestamp(int(raw) / per_second, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise BadRequest(_("%(name)s is out of range: %(value)r.") % {"name": name, "value": raw}) from None


def item_id(value: str) -> int:
    """An item id in the long form (tag:…/item/ and 16 hex digits), as 16
    bare hex digits, or as a decimal number."""
    raw = (value or "").strip()
    hex_part = raw[len(ITEM_PREFIX) :] if raw.startswith(ITEM_PREFIX) else None
    if hex_part is None and len(raw) == 16 and (raw.startswith("0") or not raw.isdigit()):
        hex_part = raw
    try:
        number = int(hex_part, 16) if hex_part is not None and len(hex_part) == 16 else None
    except ValueError:
        number = None
    if number is None and hex_part is None and raw.isdigit() and not raw.startswith("0") and len(raw) <= 19:
        number = int(raw)
    if not number or number >= 2**63:
        raise BadRequest(_("%(id)r is not an item id.") % {"id": value})
    return number


def _item_ids(request: HttpRequest) -> list[int]:
    values = _params(request, "i")
    if not values:
        raise BadRequest(_("give the items as i (one or more)."))
    if len(values) > CONTENTS_MAX:
        raise BadRequest(_too_many_items())
    return list(dict.fromkeys(item_id(value) for value in values))


def long_id(pk: int) -> str:
    return f"{ITEM_PREFIX}{pk:016x}"


def _us(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


# --- Sign-in ----------------------------------------------------------------------------


@csrf_exempt
@never_cache
def client_login(request: HttpRequest) -> HttpResponse:
    """``accounts/ClientLogin``: Email and Passwd (an app password), POSTed."""
    if request.method != "POST":
        return _text("Method Not Allowed: POST Email and Passwd.\n", status=405, Allow="POST")
    try:
        app_password = app_password_sign_in(
            request=request, email=request.POST.get("Email", ""), password=request.POST.get("Passwd", "")
        )
    except SignInRefused as refused:
        if refused.limited:
            return _text(
                "Error=BadAuthentication\nInfo=Too many failed sign-ins: wait a few minutes, then try again.\n",
                status=429,
            )
        return _text("Error=BadAuthentication\n", status=401)
    auth = greader_auth_token(app_password)
    return _text(f"SID={auth}\nLSID=null\nAuth={auth}\n")


@csrf_exempt
@never_cache
def root(request: HttpRequest) -> HttpResponse:
    """The API's base URL answers "OK", as FreshRSS's does (apps probe it)."""
    return _text("OK")


@api(methods=("GET", "POST"))
def token(request: HttpRequest) -> HttpResponse:
    return _text(greader_action_token(request.app_password) + "\n")


@api(methods=("GET",))
def user_info(request: HttpRequest) -> HttpResponse:
    member = request.reader_member
    return _json(
        {
            "userId": str(member.pk),
            "userName": member.name,
            "userProfileId": str(member.pk),
            "userEmail": member.user.email,
        }
    )


# --- Subscriptions and labels --------------------------------------------------------------


def _icon_url() -> str:
    return settings.SITE_URL + static("favicon.svg")


@api(methods=("GET",))
def subscription_list(request: HttpRequest) -> HttpResponse:
    catalog = catalog_for(request.reader_member)
    icon = _icon_url()
    return _json(
        {
            "subscriptions": [
                {
                    "id": rf.stream_id,
                    "title": rf.title,
                    "categories": [{"id": c.stream_id, "label": c.label} for c in rf.categories],
                    "url": rf.url,
                    "htmlUrl": rf.site_url,
                    "iconUrl": icon,
                }
                for rf in catalog.feeds
            ]
        }
    )


@api(methods=("GET",))
def tag_list(request: HttpRequest) -> HttpResponse:
    catalog = catalog_for(request.reader_member, with_feeds=False)
    return _json({"tags": [{"id": STARRED}] + [{"id": c.stream_id, "type": "folder"} for c in catalog.categories]})


@api(methods=("POST",), action=True)
def subscription_quickadd(request: HttpRequest) -> HttpResponse:
    url = (_param(request, "quickadd") or "").strip()
    if url.startswith("feed/"):
        url = url[len("feed/") :]
    if not url:
        return _json({"numResults": 0, "error": _("give the address to add as quickadd.")}, status=400)
    try:
        subscription = reader_subscribe(member=request.reader_member, url=url)
    except StreamRefused as exc:
        return _json({"numResults": 0, "query": url, "error": exc.message}, status=400)
    return _json(
        {
            "numResults": 1,
            "query": subscription.feed.url,
            "streamId": f"feed/{subscription.feed_id}",
            "streamName": subscription.feed.display_title,
        }
    )


def _label(stream_id: str | None) -> str | None:
    if not stream_id:
        return None
    if not stream_id.startswith("user/") or "/label/" not in stream_id:
        raise BadRequest(_("%(id)r is not a label (user/-/label/…).") % {"id": stream_id})
    return stream_id.split("/label/", 1)[1]


@api(methods=("POST",), action=True)
def subscription_edit(request: HttpRequest) -> HttpResponse:
    """``ac=subscribe`` (one feed/URL), ``unsubscribe`` or ``edit`` (labels
    with ``a``/``r``) on the member's own subscriptions. All checked first,
    then done together, or nothing."""
    action = _param(request, "ac")
    streams = _params(request, "s")
    add, remove = _label(_param(request, "a")), _label(_param(request, "r"))
    if action not in ("subscribe", "unsubscribe", "edit"):
        raise BadRequest(_("ac must be subscribe, unsubscribe or edit, not %(ac)r.") % {"ac": action})
    if not streams:
        raise BadRequest(_("give the feed as s (feed/ and its address or number)."))
    member = request.reader_member
    if action == "subscribe":
        if len(streams) > 1:
            raise BadRequest(_("subscribe to one feed per request."))
        url = streams[0][len("feed/") :] if streams[0].startswith("feed/") else streams[0]
        reader_subscribe(member=member, url=url, labels=[add] if add else [])
        return _text("OK")
    subscriptions = [own_subscription(member=member, stream_id=s) for s in streams]
    if action == "unsubscribe":
        reader_unsubscribe(subscriptions=subscriptions)
        return _text("OK")
    if _params(request, "t") and not (add or remove):
        raise BadRequest(_("titles come from the source and are the same for everyone: plnorg cannot rename one."))
    if not (add or remove):
        raise BadRequest(_("give a label to add (a) or remove (r)."))
    reader_subscriptions_edit(subscriptions=subscriptions, add=[add] if add else [], remove=[remove] if remove else [])
    return _text("OK")


# --- Counts -------------------------------------------------------------------------------


@api(methods=("GET",))
def unread_count(request: HttpRequest) -> HttpResponse:
    """Unread entries per feed, per label and in the reading list: exactly
    what ``xt=user/-/state/com.google/read`` lists for each."""
    member = request.reader_member
    state = read_state_get(member=member)
    by_feed = unread_by_feed(visible_entries(), state=state)
    catalog = catalog_for(member, with_feeds=False)
    rows, labels = [], {}
    for feed_id, unread in sorted(by_feed.items()):
        rows.append(
            {"id": f"feed/{feed_id}", "count": unread.count, "newestItemTimestampUsec": str(_us(unread.newest_seen_at))}
        )
        for category in catalog.labels_of.get(feed_id, ()):
            count, newest = labels.get(category.stream_id, (0, unread.newest_seen_at))
            labels[category.stream_id] = (count + unread.count, max(newest, unread.newest_seen_at))
    for stream_id, (count, newest) in labels.items():
        rows.append({"id": stream_id, "count": count, "newestItemTimestampUsec": str(_us(newest))})
    total = sum(u.count for u in by_feed.values())
    newest_all = max((u.newest_seen_at for u in by_feed.values()), default=None)
    rows.append(
        {
            "id": READING_LIST,
            "count": total,
            "newestItemTimestampUsec": str(_us(newest_all)) if newest_all else "0",
        }
    )
    return _json({"max": total, "unreadcounts": rows})


# --- Streams --------------------------------------------------------------------------------


def _listing(request: HttpRequest, stream_id: str, *, maximum: int):
    member = request.reader_member
    entries, _whole = scope_of(member, stream_id)
    state = read_state_get(member=member)
    entries = entries_in_state(
        member, entries, state=state, include=_param(request, "it") or None, exclude=set(_params(request, "xt"))
    )
    entries = arrived_between(
        entries, since=_moment(request, "ot", per_second=1), until=_moment(request, "nt", per_second=1)
    )
    oldest_first = _oldest_first(request)
    raw = _param(request, "c")
    after = continuation_decode(raw, oldest_first=oldest_first) if raw else None
    return entries, state, oldest_first, after, _count(request, maximum=maximum)


def _items(member, state, rows) -> list[dict]:
    """Google Reader items for a page of entries (three queries: read
    exceptions, saves, labels)."""
    unread = unread_among(state=state, entries=rows)
    saved = saved_among(member, [row.pk for row in rows])
    labels = item_categories(member, {row.feed_id for row in rows})
    return [
        _item(row, unread=row.pk in unread, starred=row.pk in saved, labels=labels.get(row.feed_id, [])) for row in rows
    ]


def _item(entry, *, unread: bool, starred: bool, labels) -> dict:
    link = entry.link or settings.SITE_URL + reverse("feeds:entry", kwargs={"entry_id": entry.pk})
    categories = [READING_LIST, *(c.stream_id for c in labels)]
    if not unread:
        categories.append(READ)
    if starred:
        categories.append(STARRED)
    item = {
        "id": long_id(entry.pk),
        "crawlTimeMsec": str(_us(entry.first_seen_at) // 1000),
        "timestampUsec": str(_us(entry.first_seen_at)),
        "published": int(entry.published_at.timestamp()),
        "updated": int(max(entry.updated_at, entry.published_at).timestamp()),
        "title": entry.title,
        "canonical": [{"href": link}],
        "alternate": [{"href": link, "type": "text/html"}],
        "summary": {
            "direction": "ltr",
            "content": sanitize_html(entry.content or entry.summary, base_url=entry.link or None),
        },
        "author": entry.author or entry.feed.display_title,
        "categories": categories,
        "origin": {
            "streamId": f"feed/{entry.feed_id}",
            "title": entry.feed.display_title,
            "htmlUrl": entry.feed.site_url or entry.feed.url,
        },
    }
    if entry.enclosure_url:
        item["enclosure"] = [{"href": entry.enclosure_url, "type": entry.enclosure_type or "application/octet-stream"}]
    return item


@api(methods=("GET", "POST"))
def stream_contents(request: HttpRequest, stream_id: str | None = None) -> HttpResponse:
    """``stream/contents/<stream id>`` (or ``?s=``): a page of items."""
    stream_id = stream_id or _param(request, "s") or READING_LIST
    entries, state, oldest_first, after, count = _listing(request, stream_id, maximum=CONTENTS_MAX)
    rows, following = entries_page(entries, count=count, oldest_first=oldest_first, after=after)
    body = {
        "id": stream_id,
        "updated": int(timezone.now().timestamp()),
        "items": _items(request.reader_member, state, rows),
    }
    if following is not None:
        body["continuation"] = following.encode()
    return _json(body)


@api(methods=("GET", "POST"))
def stream_items_ids(request: HttpRequest) -> HttpResponse:
    """``stream/items/ids?s=…``: the ids of a stream's items, short form."""
    streams = _params(request, "s")
    if len(streams) != 1:
        raise BadRequest(_("give exactly one stream as s."))
    entries, _state, oldest_first, after, count = _listing(request, streams[0], maximum=IDS_MAX)
    rows, following = entries_page(entries, count=count, oldest_first=oldest_first, after=after, ids_only=True)
    body = {"itemRefs": [{"id": str(row.pk), "timestampUsec": str(_us(row.first_seen_at))} for row in rows]}
    if following is not None:
        body["continuation"] = following.encode()
    return _json(body)


@api(methods=("GET", "POST"))
def stream_items_contents(request: HttpRequest) -> HttpResponse:
    """``stream/items/contents`` with ``i`` (repeated): those items the member
    may see (an id that is gone or not visible is left out, as a deleted
    item would be), in the stream's order."""
    ids = _item_ids(request)
    oldest_first = _oldest_first(request)
    member = request.reader_member
    state = read_state_get(member=member, kept_unread=False)
    rows, _following = entries_page(
        visible_entries().filter(pk__in=ids), count=len(ids), oldest_first=oldest_first, after=None
    )
    return _json({"id": READING_LIST, "updated": int(timezone.now().timestamp()), "items": _items(member, state, rows)})


# --- Changing state ---------------------------------------------------------------------------


STATE_TAGS = {READ, STARRED, KEPT_UNREAD}


def _state_tag(value: str) -> str:
    value = value.strip()
    if value.startswith("user/") and not value.startswith("user/-/") and value.count("/") >= 2:
        value = "user/-/" + value.split("/", 2)[2]
    if value not in STATE_TAGS:
        raise BadRequest(_("%(tag)r cannot be set on items: plnorg keeps read and starred only.") % {"tag": value})
    return value


@api(methods=("POST",), action=True)
def edit_tag(request: HttpRequest) -> HttpResponse:
    """``a``/``r`` read or starred on items ``i``. Ids the member cannot see
    are left alone; everything else is done, or nothing (on bad input)."""
    ids = _item_ids(request)
    add = {_state_tag(value) for value in _params(request, "a")}
    remove = {_state_tag(value) for value in _params(request, "r")}
    if not (add or remove):
        raise BadRequest(_("give a state to add (a) or remove (r)."))
    if (add & remove) or (READ in add and KEPT_UNREAD in add):
        raise BadRequest(_("the same state cannot be added and removed at once."))
    member = request.reader_member
    visible = visible_entries()
    with transaction.atomic():
        if READ in add:
            entries_mark(member=member, entries=visible, entry_ids=ids, read=True)
        if READ in remove or KEPT_UNREAD in add:
            entries_mark(member=member, entries=visible, entry_ids=ids, read=False)
        if STARRED in add or STARRED in remove:
            for entry in visible.filter(pk__in=ids):
                (entry_save if STARRED in add else entry_unsave)(member=member, entry=entry)
    return _text("OK")


@api(methods=("POST",), action=True)
def mark_all_as_read(request: HttpRequest) -> HttpResponse:
    """``s`` (a stream) and ``ts`` (microseconds): everything in it that had
    arrived by then (by now without ``ts``) is read; later arrivals stay new."""
    stream_id = _param(request, "s")
    if not stream_id:
        raise BadRequest(_("give the stream to mark as s."))
    entries, whole = scope_of(request.reader_member, stream_id)
    moment = _moment(request, "ts", per_second=1_000_000)
    bound: ReadBound = read_bound_at(moment) if moment else read_bound_now()
    entries_mark_all_read(member=request.reader_member, entries=None if whole else entries, bound=bound)
    return _text("OK")
