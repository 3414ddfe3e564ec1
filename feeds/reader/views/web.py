"""The reader on the site: read state in the stream and on entry pages,
"mark all as read", and the Reading apps page (app passwords).

Thin views over ``services.read_state`` and ``services.app_passwords``.
Every entry comes from the stream's visible queryset (404 otherwise); app
passwords from the signed-in member's own (404 for anyone else's). Toggles
answer a small JSON body when the keyboard shortcuts send them
(``X-Reader-Fetch: 1``), and a redirect with a message otherwise, so every
one works without JavaScript.

``StreamReading`` is what the stream page (feeds/views/stream.py) asks of
the reader: the "Unread only" narrowing, which entries on the page are
unread or saved, and the per-entry controls, built once per page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.querymemo import values_rows
from core.redirects import redirect_next
from feeds.curation import entry_save, entry_unsave
from feeds.forms.stream import StreamFilterForm
from feeds.models import Entry
from feeds.stream import ORDER_DATE, StreamFilters, filter_choices, filtered_entries

from ..forms import AppPasswordForm, MarkAllReadForm, ReadToggleForm, StarToggleForm
from ..services.app_passwords import (
    AppPasswordRefused,
    app_password_create,
    app_password_revoke,
    app_passwords_of,
)
from ..services.read_state import (
    ReadBound,
    ReadState,
    ReadStateRefused,
    all_read_message,
    entries_mark,
    entries_mark_all_read,
    entries_unread,
    entry_open,
    page_reading,
    read_bound_now,
    read_state_get,
)

FETCH_HEADER = "X-Reader-Fetch"
UNREAD_PARAM = "unread"
_SLOT = "987654321"
_TITLE = "\ue010"  # replaced by the escaped title of each entry


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get(FETCH_HEADER) == "1"


def _visible_entry_or_404(entry_id: int) -> Entry:
    entry = filtered_entries(StreamFilters()).filter(pk=entry_id).first()
    if entry is None:
        raise Http404
    return entry


# --- The stream page's part ---------------------------------------------------------


def _e(value) -> str:
    return html.escape(str(value))


@dataclass
class StreamReading:
    """The reader's share of one stream page."""

    member_id: int
    unread_only: bool
    csrf_token: str
    here: str
    # Read before the page's entries only for "Unread only", which narrows
    # by it; otherwise ``mark`` reads it with the page's marks.
    state: ReadState | None = None
    saved: set[int] = field(default_factory=set)
    unread: set[int] = field(default_factory=set)
    newest_id: int = 0

    @classmethod
    def for_request(cls, request: HttpRequest) -> StreamReading:
        unread_only = request.GET.get(UNREAD_PARAM) == "1"
        return cls(
            member_id=request.member.pk,
            state=read_state_get(member=request.member) if unread_only else None,
            unread_only=unread_only,
            csrf_token=get_token(request),
            here=request.get_full_path(),
        )

    @property
    def narrow(self):
        """The "Unread only" filter for ``feeds.stream.stream_page``, or None
        when the page shows everything."""
        if not self.unread_only:
            return None
        return lambda entries: entries_unread(entries, state=self.state)

    def mark(self, entries: list[Entry]) -> None:
        """Which entries of the page are unread and which are saved, and the
        bound of "mark all as read" (one query whatever the page size); sets
        ``entry.reading`` on each."""
        if not entries:
            return
        page = page_reading(member_id=self.member_id, entries=entries, state=self.state)
        self.state, self.unread, self.saved, self.newest_id = page.state, page.unread, page.saved, page.newest_id
        parts = self._parts()
        for entry in entries:
            unread, saved = entry.pk in self.unread, entry.pk in self.saved
            title = _e(entry.title or entry.link or _("Untitled"))
            pk = str(entry.pk)
            entry.reading = {
                "state": " is-unread" if unread else "",
                "unread": "1" if unread else "0",
                "badge": parts["badge"] if unread else "",
                "controls": mark_safe(  # noqa: S308 - built from escaped parts
                    (parts["star_on"] if saved else parts["star_off"]).replace(_SLOT, pk).replace(_TITLE, title)
                    + (parts["read_off"] if unread else parts["read_on"]).replace(_SLOT, pk).replace(_TITLE, title)
                ),
            }

    def _parts(self) -> dict[str, str]:
        """Each control in its two states, escaped once per page."""
        read_url = reverse("reader:entry_read", kwargs={"entry_id": int(_SLOT)})
        star_url = reverse("reader:entry_star", kwargs={"entry_id": int(_SLOT)})
        hidden = (
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{_e(self.csrf_token)}">'
            f'<input type="hidden" name="next" value="{_e(self.here)}#entry-{_SLOT}">'
        )
        labels = {
            "read_on": _("Mark as unread"),
            "read_off": _("Mark as read"),
            "star_on": _("Saved — remove"),
            "star_off": _("Save for later"),
        }

        def toggle(kind: str, url: str, name: str, on: bool) -> str:
            label = labels[f"{kind}_{'on' if on else 'off'}"]
            badge = f' data-badge="{_e(_("Unread"))}"' if kind == "read" else ""
            return (
                f'<form method="post" action="{_e(url)}" class="inline-form" data-reader="{kind}"{badge}>{hidden}'
                f'<input type="hidden" name="{name}" value="{"0" if on else "1"}">'
                f'<button type="submit" class="small{" secondary" if kind == "read" else ""}" '
                f'data-label-on="{_e(labels[kind + "_on"])}" data-label-off="{_e(labels[kind + "_off"])}">'
                f'<span data-label>{_e(label)}</span><span class="visually-hidden">: {_TITLE}</span></button></form> '
            )

        return {
            "badge": f'<span class="badge badge-unread">{_e(_("Unread"))}</span> ',
            "read_on": toggle("read", read_url, "read", True),
            "read_off": toggle("read", read_url, "read", False),
            "star_on": toggle("star", star_url, "starred", True),
            "star_off": toggle("star", star_url, "starred", False),
        }

    def context(self, *, params: dict[str, str], has_entries: bool) -> dict:
        """The "Unread only" switch and the "mark all as read" form."""
        kept = {k: v for k, v in params.items() if k not in ("cursor", UNREAD_PARAM, "order")}
        everything = {k: v for k, v in params.items() if k not in ("cursor", UNREAD_PARAM)}
        return {
            "unread_only": self.unread_only,
            "everything_url": "?" + urlencode(everything) if everything else reverse("feeds:stream"),
            "mark_all": {
                "newest": self.newest_id,
                "hidden": sorted(kept.items()),
                "next": self.here,
                "filtered": bool(kept),
            }
            if has_entries
            else None,
        }


# --- The entry page's part ------------------------------------------------------------


def _newer(published_at, pk):
    """The visible entry just newer than (published_at, pk) in the stream's order."""
    return (
        filtered_entries(StreamFilters())
        .filter(published_at__gte=published_at)
        .exclude(published_at=published_at, id__lte=pk)
        .order_by("published_at", "id")
        .values_list("pk")[:1]
    )


def _older(published_at, pk):
    """The visible entry just older than (published_at, pk) in the stream's order."""
    return (
        filtered_entries(StreamFilters())
        .filter(published_at__lte=published_at)
        .exclude(published_at=published_at, id__gte=pk)
        .order_by("-published_at", "-id")
        .values_list("pk")[:1]
    )


def entry_reading(request: HttpRequest, entry: Entry) -> dict:
    """Opening an entry marks it read; its page offers "mark as unread" and
    the newer and older entries of the stream (for j and k)."""
    entry_open(member=request.member, entry=entry)
    at = {"published_at": entry.published_at, "pk": entry.pk}
    newer = next((pk for (pk,) in values_rows("entry-newer", _newer, **at)), None)
    older = next((pk for (pk,) in values_rows("entry-older", _older, **at)), None)
    return {
        "reader_entry": {
            "pk": entry.pk,
            "newer": reverse("feeds:entry", kwargs={"entry_id": newer}) if newer else "",
            "older": reverse("feeds:entry", kwargs={"entry_id": older}) if older else "",
            # Back to the stream: coming back here would mark it read again.
            "next": reverse("feeds:stream") + f"#entry-{entry.pk}",
        }
    }


# --- Toggles ------------------------------------------------------------------------------


@require_POST
def entry_read(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = _visible_entry_or_404(entry_id)
    form = ReadToggleForm(request.POST)
    if not form.is_valid():
        return _refused(request, _("Say whether to mark it read or unread."), fallback=entry)
    read = form.cleaned_data["read"]
    try:
        entries_mark(member=request.member, entries=filtered_entries(StreamFilters()), entry_ids=[entry.pk], read=read)
    except ReadStateRefused as exc:
        return _refused(request, exc.message, fallback=entry)
    if _wants_json(request):
        return JsonResponse({"entry": entry.pk, "read": read})
    messages.success(request, _("Marked as read.") if read else _("Marked as unread."))
    return redirect_next(request, fallback=reverse("feeds:entry", kwargs={"entry_id": entry.pk}))


@require_POST
def entry_star(request: HttpRequest, entry_id: int) -> HttpResponse:
    """Saves are the reader's starred items: the same rows as "Save for later"."""
    entry = _visible_entry_or_404(entry_id)
    form = StarToggleForm(request.POST)
    if not form.is_valid():
        return _refused(request, _("Say whether to save it or remove it."), fallback=entry)
    starred = form.cleaned_data["starred"]
    if starred:
        entry_save(member=request.member, entry=entry)
    else:
        entry_unsave(member=request.member, entry=entry)
    if _wants_json(request):
        return JsonResponse({"entry": entry.pk, "starred": starred})
    messages.success(request, _("Saved for later.") if starred else _("Removed from your saved entries."))
    return redirect_next(request, fallback=reverse("feeds:entry", kwargs={"entry_id": entry.pk}))


def _refused(request: HttpRequest, message: str, *, fallback: Entry) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"error": message}, status=400)
    messages.error(request, message)
    return redirect_next(request, fallback=reverse("feeds:entry", kwargs={"entry_id": fallback.pk}))


@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    """Mark as read everything in the view the member was looking at, up to
    the newest entry when the page was drawn. A filter value that is not
    valid marks nothing (the stream ignores such a value, which here would
    mark more than the member saw)."""
    bound_form = MarkAllReadForm(request.POST)
    filter_form = StreamFilterForm(request.POST, choices=filter_choices())
    filter_form.is_valid()
    if not bound_form.is_valid() or filter_form.errors:
        messages.error(request, _("Nothing was marked: this view's filters are no longer valid. Reload and try again."))
        return redirect_next(request, fallback=reverse("feeds:stream"))
    filters = filter_form.filters()
    newest = min(bound_form.cleaned_data["newest"], read_bound_now().newest_id)
    whole_stream = replace(filters, order=ORDER_DATE) == StreamFilters()
    entries_mark_all_read(
        member=request.member,
        entries=None if whole_stream else filtered_entries(filters, tz=timezone.get_current_timezone()),
        bound=ReadBound(newest_id=newest),
    )
    messages.success(request, all_read_message())
    return redirect_next(request, fallback=reverse("feeds:stream"))


# --- Reading apps ---------------------------------------------------------------------------


def _api_urls() -> dict[str, str]:
    from ..urls import FEVER_PREFIX, GREADER_PREFIX

    return {"greader": f"{settings.SITE_URL}/{GREADER_PREFIX}", "fever": f"{settings.SITE_URL}/{FEVER_PREFIX}"}


@require_http_methods(["GET", "POST"])
def reading_apps(request: HttpRequest) -> HttpResponse:
    """Base URLs, set-up steps, and the member's app passwords. A new
    password is shown on the answer to the POST that made it, and never again."""
    form = AppPasswordForm(request.POST or None)
    created = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                created = app_password_create(
                    member=request.member, name=form.cleaned_data["name"], actor=request.user, request=request
                )
            except AppPasswordRefused as exc:
                form.add_error("name", exc.message)
        if created is None:
            status = 400
        else:
            form = AppPasswordForm()
    context = {
        "form": form,
        "created": created,
        "app_passwords": list(app_passwords_of(request.member)),
        "urls": _api_urls(),
        "email": request.user.email,
        "unread_days": settings.READER_UNREAD_DAYS,
    }
    response = render(request, "reader/reading_apps.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the one page that shows a password
    return response


@require_POST
def app_password_revoke_view(request: HttpRequest, app_password_id: int) -> HttpResponse:
    app_password = get_object_or_404(
        app_passwords_of(request.member).select_related("member__user"), pk=app_password_id
    )
    if app_password_revoke(app_password=app_password, actor=request.user, request=request, reason="member"):
        messages.success(request, _("Revoked “%(name)s”: apps using it are signed out.") % {"name": app_password.name})
    else:
        messages.info(request, _("“%(name)s” was already revoked.") % {"name": app_password.name})
    return redirect("reader:reading_apps")
