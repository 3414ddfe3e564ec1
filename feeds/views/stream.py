"""The shared stream, entry pages and moderation (thin views over
feeds.stream and feeds.moderation).

Object rules: the stream and entry pages show only what the organization can
see (``Entry.objects.shared()``; 404 otherwise, even for an existing entry);
reports can be made on visible entries and sources only; hiding and
restoring are for facilitators and admins (the permission map enforces the
role, feeds.moderation checks it again).
"""

from __future__ import annotations

import html
from urllib.parse import quote

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import get_format
from django.utils.http import urlencode
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.formatting import DateFormatter
from core.redirects import redirect_next
from core.urls import reverse_for_ids

from ..curation import picks_for_stream
from ..forms.stream import HideForm, ReportForm, StreamFilterForm
from ..models import Entry, Feed, Report, Subscription
from ..moderation import (
    ModerationRefused,
    can_moderate,
    entry_hide,
    entry_restore,
    feed_hide,
    feed_restore,
    hidden_entries,
    hidden_feeds,
    report_create,
    report_dismiss,
    reports_open,
)
from ..reader.views.web import StreamReading, entry_reading
from ..sanitize import sanitize_html
from ..stream import filter_choices, stream_page, through_entry

FILTER_PARAMS = ("q", "kind", "team", "member", "platform", "topic", "since", "until", "order", "picks", "unread")
LIST_LIMIT = 200
ENTRY_URLS = ("entry", "report_entry", "recommend")


def _query(params: dict[str, str], **changes) -> str:
    merged = {k: v for k, v in {**params, **changes}.items() if v not in (None, "")}
    return "?" + urlencode(merged) if merged else "?"


def stream(request: HttpRequest) -> HttpResponse:
    form = StreamFilterForm(request.GET, choices=filter_choices())
    filters = form.filters()
    cursor = request.GET.get("cursor") or None
    reading = StreamReading.for_request(request)  # read state (feeds.reader)
    page = stream_page(filters, cursor=cursor, tz=timezone.get_current_timezone(), narrow=reading.narrow)
    reading.mark(page.entries)
    # Reversed once per page, not once per entry (the page renders 50).
    urls = {name: reverse_for_ids(f"feeds:{name}", kwarg="entry_id") for name in ENTRY_URLS}
    for item in page.entries:
        item.urls = {name: url(item.pk) for name, url in urls.items()}
    params = {k: request.GET[k] for k in FILTER_PARAMS if request.GET.get(k)}
    tabs = [
        ("", _("All")),
        (Subscription.Kind.ACCOUNT.value, _("What we publish")),
        (Subscription.Kind.SOURCE.value, _("What we read")),
    ]
    context = {
        "form": form,
        "select_fields": form.select_fields(),
        "filters": filters,
        "entries": page.entries,
        "older_url": _query(params, cursor=page.next_cursor) if page.next_cursor else "",
        "newest_url": _query(params) if cursor else "",
        "tabs": [(label, _query(params, kind=value), filters.kind == value) for value, label in tabs],
        "filtered": bool(params),
        "picks": picks_for_stream() if not params and not cursor else [],
        "is_first_page": not cursor,
        "here": request.get_full_path(),
        "here_encoded": quote(request.get_full_path(), safe=""),
        "reading": reading.context(params=params, has_entries=bool(page.entries)),
        "labels": {
            "original": _("Read the original"),
            "recommend": _("Recommend"),
            "report": _("Report"),
            "untitled": _("Untitled"),
            "any": _("Any"),
        },
    }
    context["entries_html"] = _entry_items_html(
        page.entries,
        labels=context["labels"],
        here_encoded=context["here_encoded"],
    )
    return render(request, "feeds/stream/index.html", context)


ENTRY_ITEM = (
    '<li><article class="entry{state}" id="entry-{pk}" data-entry="{pk}" data-unread="{unread}" '
    'aria-labelledby="entry-{pk}-title">'
    '<h3 id="entry-{pk}-title"><a href="{url_entry}">{heading}</a></h3>'
    '<p class="entry-meta">{badge}<span class="entry-source">{source}</span> · <span class="badge">{platform}</span> · '
    '<time datetime="{iso}">{when}</time></p>'
    '<p class="entry-through">{through}</p>'
    "{excerpt}"
    # Save (the reader's "starred") and read/unread: feeds.reader's controls.
    '<div class="toolbar entry-links">{original}{reading}'
    '<a class="button button-small button-secondary" href="{url_recommend}?next={here_encoded}">{recommend}'
    '<span class="visually-hidden">: {title}</span></a> '
    '<a class="muted" href="{url_report}">{report}<span class="visually-hidden">: {title}</span></a>'
    "</div></article></li>"
)


def _escaped(value) -> str:
    """What format_html does to one value (safe strings pass, the rest is
    escaped with the same html.escape), without its per-call lazy-string
    checks, which cost the stream page more than the escaping itself."""
    return str(value) if isinstance(value, SafeData) else html.escape(str(value))


def _format_escaped(template: str, *args, **kwargs) -> str:
    return template.format(*map(_escaped, args), **{name: _escaped(value) for name, value in kwargs.items()})


def _entry_items_html(entries, *, labels: dict, here_encoded: str) -> SafeString:
    """The page's 50 entries, built here rather than in the template: the
    template engine spent most of the stream's time on them. Every value is
    escaped as format_html would (unless already safe, like search snippets)."""
    # The same on every entry: escaped once per page.
    same = {
        name: mark_safe(_escaped(value))  # noqa: S308 - escaped here
        for name, value in {
            "here_encoded": here_encoded,
            "recommend": labels["recommend"],
            "report": labels["report"],
            "original": labels["original"],
        }.items()
    }
    # What date_format(value, "DATETIME_FORMAT") does, with the format looked
    # up and compiled once for the page instead of once for each of its entries.
    when = DateFormatter(get_format("DATETIME_FORMAT"))
    items = []
    for entry in entries:
        published = timezone.localtime(entry.published_at)
        if entry.snippet:
            excerpt = mark_safe(_format_escaped('<p class="entry-excerpt entry-snippet">{}</p>', entry.snippet))  # noqa: S308
        elif entry.excerpt:
            excerpt = mark_safe(_format_escaped('<p class="entry-excerpt">{}</p>', entry.excerpt))  # noqa: S308
        else:
            excerpt = ""
        original = (
            mark_safe(  # noqa: S308 - every value escaped
                _format_escaped(
                    '<a href="{}" rel="noopener noreferrer">{}<span class="visually-hidden">: {}</span></a> ',
                    entry.link,
                    same["original"],
                    entry.title,
                )
            )
            if entry.link
            else ""
        )
        items.append(
            _format_escaped(
                ENTRY_ITEM,
                pk=entry.pk,
                url_entry=entry.urls["entry"],
                heading=entry.title or entry.link or labels["untitled"],
                source=entry.source,
                platform=capfirst(entry.platform),
                iso=published.isoformat(),
                when=when(published),
                through=entry.through_text,
                excerpt=excerpt,
                original=original,
                state=mark_safe(entry.reading["state"]),  # noqa: S308 - fixed markup
                unread=entry.reading["unread"],
                badge=mark_safe(entry.reading["badge"]),  # noqa: S308 - escaped by feeds.reader
                reading=entry.reading["controls"],
                title=entry.title,
                url_recommend=entry.urls["recommend"],
                here_encoded=same["here_encoded"],
                recommend=same["recommend"],
                url_report=entry.urls["report_entry"],
                report=same["report"],
            )
        )
    return mark_safe("".join(items))  # noqa: S308 - every value escaped by _format_escaped


def _visible_entry_or_404(entry_id: int) -> Entry:
    entry = Entry.objects.shared().select_related("feed").filter(pk=entry_id).first()
    if entry is None:
        raise Http404
    return entry


def entry(request: HttpRequest, entry_id: int) -> HttpResponse:
    item = _visible_entry_or_404(entry_id)
    content = sanitize_html(item.content or item.summary, base_url=item.link or None)
    return render(
        request,
        "feeds/stream/entry.html",
        {
            "entry": item,
            "content": content,
            "through": through_entry(item),
            "can_moderate": can_moderate(request.member),
            # Opening an entry marks it read (feeds.reader).
            **entry_reading(request, item),
        },
    )


# --- Reports --------------------------------------------------------------------


def report_entry(request: HttpRequest, entry_id: int) -> HttpResponse:
    item = _visible_entry_or_404(entry_id)
    return _report(request, target=item, entry=item, back=reverse("feeds:entry", kwargs={"entry_id": item.pk}))


def report_feed(request: HttpRequest, feed_id: int) -> HttpResponse:
    visible = Subscription.objects.shared().filter(feed_id=feed_id)
    feed = get_object_or_404(Feed.objects.filter(pk__in=visible.values("feed_id")), pk=feed_id)
    return _report(request, target=feed, feed=feed, back=reverse("feeds:stream"))


def _report(request: HttpRequest, *, target, back: str, entry: Entry | None = None, feed: Feed | None = None):
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            report_create(member=request.member, entry=entry, feed=feed, **form.cleaned_data)
        except ModerationRefused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Reported. Thank you: a facilitator will look at it."))
            return redirect(back)
    return render(request, "feeds/stream/report.html", {"form": form, "target": target, "entry": entry, "feed": feed})


def reports(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "feeds/stream/reports.html",
        {
            "reports": list(reports_open()[:LIST_LIMIT]),
            "hidden_entries": list(hidden_entries()[:LIST_LIMIT]),
            "hidden_feeds": list(hidden_feeds()[:LIST_LIMIT]),
            "hide_form": HideForm(),
        },
    )


def _moderate(request: HttpRequest, action, **kwargs) -> bool:
    try:
        action(member=request.member, **kwargs)
    except ModerationRefused as exc:
        messages.error(request, exc.message)
        return False
    return True


@require_POST
def entry_hide_view(request: HttpRequest, entry_id: int) -> HttpResponse:
    item = get_object_or_404(Entry.objects.select_related("feed"), pk=entry_id)
    form = HideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why it is hidden: the reason is kept for other facilitators."))
    elif _moderate(request, entry_hide, entry=item, reason=form.cleaned_data["reason"]):
        messages.success(request, _("Hidden from everyone: “%(title)s”.") % {"title": item.title or item.link})
    return redirect_next(request, fallback=reverse("feeds:reports"))


@require_POST
def entry_restore_view(request: HttpRequest, entry_id: int) -> HttpResponse:
    item = get_object_or_404(Entry, pk=entry_id)
    if _moderate(request, entry_restore, entry=item):
        messages.success(request, _("Restored: “%(title)s”.") % {"title": item.title or item.link})
    return redirect_next(request, fallback=reverse("feeds:reports"))


@require_POST
def feed_hide_view(request: HttpRequest, feed_id: int) -> HttpResponse:
    feed = get_object_or_404(Feed, pk=feed_id)
    form = HideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why it is hidden: the reason is kept for other facilitators."))
    elif _moderate(request, feed_hide, feed=feed, reason=form.cleaned_data["reason"]):
        messages.success(request, _("Source hidden from everyone: %(title)s.") % {"title": feed.display_title})
    return redirect_next(request, fallback=reverse("feeds:reports"))


@require_POST
def feed_restore_view(request: HttpRequest, feed_id: int) -> HttpResponse:
    feed = get_object_or_404(Feed, pk=feed_id)
    if _moderate(request, feed_restore, feed=feed):
        messages.success(request, _("Source restored: %(title)s.") % {"title": feed.display_title})
    return redirect_next(request, fallback=reverse("feeds:reports"))


@require_POST
def report_dismiss_view(request: HttpRequest, report_id: int) -> HttpResponse:
    report = get_object_or_404(Report, pk=report_id)
    if _moderate(request, report_dismiss, report=report):
        messages.success(request, _("Report dismissed."))
    return redirect_next(request, fallback=reverse("feeds:reports"))
