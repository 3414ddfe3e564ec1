"""The Fever API under /api/fever/ (https://feedafever.com/api, API version 3).

Every call is a POST with ``api_key`` = md5("email:app-password") in the
body and what is asked for in the query string: ``?api&groups``,
``&feeds``, ``&favicons``, ``&items`` (``since_id``, ``max_id``,
``with_ids``), ``&unread_item_ids``, ``&saved_item_ids``, and the writes
``mark=item|feed|group``, ``as=read|unread|saved|unsaved``, ``id``,
``before``. Several reads combine in one call, as the protocol allows.

Every answer is JSON with ``api_version`` and ``auth``; a missing or wrong
api_key answers 401 with ``auth: 0``; input the API cannot act on answers
400 with an ``error`` saying what is wrong, and changes nothing.

Fever ids are numbers: items and feeds are plnorg's entry and feed ids;
groups are the categories of ``services.streams`` (1 is My PLN, teams even,
topics odd); group 0 is everything ("Kindling"), and -1 ("Sparks") holds no
feed in plnorg. Items come 50 at a time by id, the order Fever clients sync
in. plnorg does not fetch site icons: every feed uses one plnorg favicon.
"""

from __future__ import annotations

import base64
import struct
import zlib
from datetime import UTC, datetime

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from feeds.curation import entry_save, entry_unsave
from feeds.sanitize import sanitize_html

from ..services.app_passwords import SignInRefused, fever_sign_in
from ..services.read_state import (
    ReadStateRefused,
    entries_mark,
    entries_mark_all_read,
    entries_unread,
    read_bound_at,
    read_bound_now,
    read_state_get,
    unread_among,
)
from ..services.streams import Catalog, catalog_for, entries_saved, saved_among, visible_entries

API_VERSION = 3
ITEMS_PER_CALL = 50
WITH_IDS_MAX = 50
FAVICON_ID = 1
TOTAL_CACHE_KEY = "reader:fever:total_items:v1"
TOTAL_CACHE_SECONDS = 60


class BadRequest(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _answer(body: dict, status: int = 200) -> JsonResponse:
    return JsonResponse(
        {"api_version": API_VERSION, **body},
        status=status,
        json_dumps_params={"ensure_ascii": False, "separators": (",", ":")},
    )


def _png(rgb: tuple[int, int, int], size: int = 16) -> bytes:
    """A plain square PNG (plnorg's accent colour), made without an image library."""
    row = b"\x00" + bytes(rgb) * size
    raw = zlib.compress(row * size)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


FAVICON_DATA = "image/png;base64," + base64.b64encode(_png((0x1F, 0x5F, 0xBF))).decode()


def _unix(moment: datetime | None) -> int:
    return int(moment.timestamp()) if moment else 0


def _number(request: HttpRequest, name: str, *, minimum: int = 0) -> int | None:
    raw = request.GET.get(name, request.POST.get(name))
    if raw in (None, ""):
        return None
    raw = raw.strip()
    negative = raw.startswith("-")
    digits = raw[1:] if negative else raw
    if not digits.isdigit() or len(digits) > 18 or (-int(digits) if negative else int(digits)) < minimum:
        raise BadRequest(_("%(name)s must be a whole number, not %(value)r.") % {"name": name, "value": raw})
    return -int(digits) if negative else int(digits)


def _asked(request: HttpRequest, name: str) -> bool:
    return name in request.GET or name in request.POST


@csrf_exempt
@never_cache
def fever(request: HttpRequest) -> HttpResponse:
    if request.method != "POST" or not request.POST.get("api_key"):
        return _answer({"auth": 0, "error": _("POST api_key: md5 of “email:app password”.")}, status=401)
    try:
        app_password = fever_sign_in(request=request, api_key=request.POST["api_key"])
    except SignInRefused as refused:
        if refused.limited:
            return _answer(
                {"auth": 0, "error": _("Too many failed sign-ins: wait a few minutes, then try again.")}, status=429
            )
        return _answer(
            {"auth": 0, "error": _("This api_key is not valid (revoked, or the account was deactivated).")}, status=401
        )
    member = app_password.member
    try:
        body = _call(request, member)
    except (BadRequest, ReadStateRefused) as exc:
        return _answer({"auth": 1, "error": exc.message}, status=400)
    return _answer({"auth": 1, **body})


def _call(request: HttpRequest, member) -> dict:
    """The writes first (checked, then done together), then the reads."""
    body: dict = {"last_refreshed_on_time": _last_refreshed()}
    wrote = _mark(request, member) if _asked(request, "mark") else None
    catalog: Catalog | None = None
    if _asked(request, "groups") or _asked(request, "feeds"):
        catalog = catalog_for(member, with_feeds=_asked(request, "feeds"))
    if _asked(request, "groups"):
        body["groups"] = [{"id": c.group_id, "title": c.label} for c in catalog.categories]
        body["feeds_groups"] = _feeds_groups(catalog)
    if _asked(request, "feeds"):
        body["feeds"] = [
            {
                "id": rf.pk,
                "favicon_id": FAVICON_ID,
                "title": rf.title,
                "url": rf.url,
                "site_url": rf.site_url,
                "is_spark": 0,
                "last_updated_on_time": _unix(rf.last_updated_at),
            }
            for rf in catalog.feeds
        ]
        body["feeds_groups"] = _feeds_groups(catalog)
    if _asked(request, "favicons"):
        body["favicons"] = [{"id": FAVICON_ID, "data": FAVICON_DATA}]
    if _asked(request, "items"):
        body["total_items"] = _total_items()
        body["items"] = _items(request, member)
    if _asked(request, "links"):
        body["links"] = []  # plnorg has no Sparks, so no hot links
    if _asked(request, "unread_item_ids") or wrote in ("read", "unread", "feed", "group"):
        state = read_state_get(member=member)
        ids = entries_unread(visible_entries(), state=state).order_by("pk").values_list("pk", flat=True)
        body["unread_item_ids"] = ",".join(str(pk) for pk in ids)
    if _asked(request, "saved_item_ids") or wrote in ("saved", "unsaved"):
        ids = entries_saved(member, visible_entries()).order_by("pk").values_list("pk", flat=True)
        body["saved_item_ids"] = ",".join(str(pk) for pk in ids)
    return body


def _last_refreshed() -> int:
    from feeds.models import Feed

    latest = (
        Feed.objects.filter(last_success_at__isnull=False)
        .order_by("-last_success_at")
        .values_list("last_success_at", flat=True)
        .first()
    )
    return _unix(latest)


def _feeds_groups(catalog: Catalog) -> list[dict]:
    return [
        {"group_id": c.group_id, "feed_ids": ",".join(str(pk) for pk in sorted(catalog.feed_ids(c)))}
        for c in catalog.categories
    ]


def _total_items() -> int:
    """Every entry of the stream (the same for everyone), counted once a minute."""
    total = cache.get(TOTAL_CACHE_KEY)
    if total is None:
        total = visible_entries().order_by().count()
        cache.set(TOTAL_CACHE_KEY, total, TOTAL_CACHE_SECONDS)
    return total


def _items(request: HttpRequest, member) -> list[dict]:
    entries = visible_entries()
    with_ids = request.GET.get("with_ids", request.POST.get("with_ids"))
    since_id, max_id = _number(request, "since_id"), _number(request, "max_id")
    if with_ids is not None:
        parts = [p.strip() for p in with_ids.split(",") if p.strip()]
        if len(parts) > WITH_IDS_MAX or not all(p.isdigit() and len(p) < 19 for p in parts):
            raise BadRequest(
                _("with_ids must be at most %(max)d item ids separated by commas.") % {"max": WITH_IDS_MAX}
            )
        rows = entries.filter(pk__in=[int(p) for p in parts]).order_by("pk")
    elif max_id is not None:
        rows = entries.filter(pk__lt=max_id).order_by("-pk") if max_id else entries.order_by("-pk")
    else:
        rows = entries.filter(pk__gt=since_id or 0).order_by("pk")
    rows = list(rows.select_related("feed").defer("search_vector")[:ITEMS_PER_CALL])
    state = read_state_get(member=member, kept_unread=False)
    unread = unread_among(state=state, entries=rows)
    saved = saved_among(member, [row.pk for row in rows])
    return [
        {
            "id": row.pk,
            "feed_id": row.feed_id,
            "title": row.title,
            "author": row.author,
            "html": sanitize_html(row.content or row.summary, base_url=row.link or None),
            "url": row.link,
            "is_saved": int(row.pk in saved),
            "is_read": int(row.pk not in unread),
            "created_on_time": _unix(row.published_at),
        }
        for row in rows
    ]


MARKS = {"item": ("read", "unread", "saved", "unsaved"), "feed": ("read",), "group": ("read",)}


def _mark(request: HttpRequest, member) -> str:
    """``mark``/``as``/``id`` (and ``before`` for feeds and groups). Returns
    what was written ("read", "saved", "feed", …) so the answer carries
    the new unread or saved ids, as Fever clients expect."""
    kind, as_ = request.GET.get("mark", request.POST.get("mark")), request.GET.get("as", request.POST.get("as"))
    if kind not in MARKS or as_ not in MARKS[kind]:
        raise BadRequest(
            _("mark must be item (as read, unread, saved or unsaved), feed or group (as read); got %(mark)r as %(as)r.")
            % {"mark": kind, "as": as_}
        )
    target = _number(request, "id", minimum=-1)
    if target is None:
        raise BadRequest(_("give the id of the %(kind)s to mark.") % {"kind": kind})
    visible = visible_entries()
    if kind == "item":
        with transaction.atomic():
            if as_ in ("read", "unread"):
                entries_mark(member=member, entries=visible, entry_ids=[target], read=as_ == "read")
            else:
                entry = visible.filter(pk=target).first()
                if entry is not None:
                    (entry_save if as_ == "saved" else entry_unsave)(member=member, entry=entry)
        return as_
    before = _number(request, "before")
    bound = read_bound_at(datetime.fromtimestamp(before, tz=UTC)) if before else read_bound_now()
    if kind == "group" and target == 0:
        entries_mark_all_read(member=member, entries=None, bound=bound)
        return kind
    catalog = catalog_for(member, with_feeds=False)
    if kind == "feed":
        if target not in catalog.labels_of:
            raise BadRequest(_("Unknown feed %(id)d.") % {"id": target})
        scope = visible.filter(feed_id=target)
    else:
        category = catalog.by_group.get(target)
        if target == -1:  # Sparks: no feed is a spark in plnorg
            return kind
        if category is None:
            raise BadRequest(_("Unknown group %(id)d.") % {"id": target})
        scope = visible.filter(feed_id__in=catalog.feed_ids(category))
    entries_mark_all_read(member=member, entries=scope, bound=bound)
    return kind
