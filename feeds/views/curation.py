"""Curation pages: picks, saves, recommendations, starter packs.

Thin views over feeds.curation. Every entry comes from
``Entry.objects.shared()`` (404 otherwise); saves and recommendations from the
signed-in member's own querysets (404 for anyone else's).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.redirects import redirect_next, safe_next

from ..curation import (
    CurationRefused,
    entry_save,
    entry_unsave,
    followed_feed_ids,
    pick_create,
    pick_remove,
    picks_visible,
    recommendation_dismiss,
    recommendation_recipients,
    recommendation_send,
    saved_for,
    starter_pack_delete,
    starter_pack_drop,
    starter_pack_follow,
    starter_pack_save,
    starter_packs_with_items,
    visible_entry,
)
from ..forms.curation import PickForm, RecommendForm, StarterPackForm
from ..models import Entry, Recommendation, StarterPack

LIST_LIMIT = 200


def _entry_or_404(entry_id: int) -> Entry:
    try:
        return visible_entry(entry_id)
    except Entry.DoesNotExist:
        raise Http404 from None


def entry_url(entry: Entry) -> str:
    """The entry's page if the stream has one, else the original link."""
    try:
        return reverse("feeds:entry", kwargs={"entry_id": entry.pk})
    except NoReverseMatch:  # until the stream's entry page exists
        return entry.link or reverse("feeds:picks")


# --- Picks --------------------------------------------------------------------


def picks(request: HttpRequest) -> HttpResponse:
    return render(request, "feeds/curation/picks.html", {"picks": list(picks_visible()[:LIST_LIMIT])})


@require_POST
def pick(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = _entry_or_404(entry_id)
    form = PickForm(request.POST)
    if form.is_valid():
        try:
            pick_create(member=request.member, entry=entry, note=form.cleaned_data["note"])
        except CurationRefused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Picked: everyone sees it first."))
    else:
        messages.error(request, _("The note is too long (500 characters at most)."))
    return redirect_next(request, fallback=entry_url(entry))


@require_POST
def unpick(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = _entry_or_404(entry_id)
    try:
        pick_remove(member=request.member, entry=entry)
    except CurationRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("No longer picked."))
    return redirect_next(request, fallback=entry_url(entry))


# --- Saves --------------------------------------------------------------------


def saved(request: HttpRequest) -> HttpResponse:
    items = list(saved_for(request.member)[:LIST_LIMIT])
    return render(request, "feeds/curation/saved.html", {"saved": items})


@require_POST
def save(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = _entry_or_404(entry_id)
    entry_save(member=request.member, entry=entry)
    messages.success(request, _("Saved for later."))
    return redirect_next(request, fallback=entry_url(entry))


@require_POST
def unsave(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = _entry_or_404(entry_id)
    entry_unsave(member=request.member, entry=entry)
    messages.success(request, _("Removed from your saved entries."))
    return redirect_next(request, fallback=reverse("feeds:saved"))


# --- Recommendations ------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def recommend(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = _entry_or_404(entry_id)
    recipients = recommendation_recipients(member=request.member)
    form = RecommendForm(request.POST or None, recipients=recipients)
    if request.method == "POST" and form.is_valid():
        try:
            recommendation_send(
                sender=request.member,
                recipient=form.cleaned_data["recipient"],
                entry=entry,
                note=form.cleaned_data["note"],
            )
        except CurationRefused as exc:
            form.add_error("recipient", exc.message)
        else:
            messages.success(
                request,
                _("Recommended to %(name)s: they will see it on their home page.")
                % {"name": form.cleaned_data["recipient"].name},
            )
            return redirect_next(request, fallback=entry_url(entry))
    return render(
        request,
        "feeds/curation/recommend.html",
        {"entry": entry, "form": form, "entry_href": entry_url(entry), "next": safe_next(request)},
    )


@require_POST
def recommendation_dismiss_view(request: HttpRequest, recommendation_id: int) -> HttpResponse:
    try:
        recommendation_dismiss(member=request.member, recommendation_id=recommendation_id)
    except Recommendation.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("Recommendation dismissed."))
    return redirect_next(request, fallback=reverse("home"))


# --- Starter packs ------------------------------------------------------------


def starter_packs(request: HttpRequest) -> HttpResponse:
    packs = list(starter_packs_with_items())
    return render(
        request,
        "feeds/curation/starter_packs.html",
        {"packs": packs, "followed": followed_feed_ids(request.member)},
    )


def starter_pack(request: HttpRequest, pack_id: int) -> HttpResponse:
    pack = get_object_or_404(starter_packs_with_items(), pk=pack_id)
    return render(
        request,
        "feeds/curation/starter_pack.html",
        {"pack": pack, "followed": followed_feed_ids(request.member)},
    )


@require_http_methods(["GET", "POST"])
def starter_pack_edit(request: HttpRequest, pack_id: int | None = None) -> HttpResponse:
    pack = get_object_or_404(StarterPack, pk=pack_id) if pack_id else None
    form = StarterPackForm(request.POST or None, instance=pack)
    if request.method == "POST" and form.is_valid():
        try:
            pack = starter_pack_save(
                member=request.member,
                pack=pack,
                title=form.cleaned_data["title"],
                topic=form.cleaned_data["topic"],
                description=form.cleaned_data["description"],
                feeds=form.cleaned_data["feeds"],
            )
        except CurationRefused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Starter pack saved."))
            return redirect("feeds:starter_pack", pack_id=pack.pk)
    return render(request, "feeds/curation/starter_pack_form.html", {"form": form, "pack": pack})


@require_POST
def starter_pack_delete_view(request: HttpRequest, pack_id: int) -> HttpResponse:
    pack = get_object_or_404(StarterPack, pk=pack_id)
    try:
        starter_pack_delete(member=request.member, pack=pack)
    except CurationRefused as exc:
        messages.error(request, exc.message)
        return redirect("feeds:starter_pack", pack_id=pack.pk)
    messages.success(request, _("Starter pack deleted."))
    return redirect("feeds:starter_packs")


@require_POST
def starter_pack_follow_view(request: HttpRequest, pack_id: int) -> HttpResponse:
    pack = get_object_or_404(StarterPack, pk=pack_id)
    result = starter_pack_follow(member=request.member, pack=pack)
    if result.added:
        messages.success(
            request,
            _("Following %(count)d new sources from “%(title)s”, kept private until you choose to share them.")
            % {"count": len(result.added), "title": pack.title},
        )
    else:
        messages.success(request, _("You already follow every source in this pack."))
    return redirect_next(request, fallback=reverse("feeds:starter_pack", kwargs={"pack_id": pack.pk}))


@require_POST
def starter_pack_drop_view(request: HttpRequest, pack_id: int, feed_id: int) -> HttpResponse:
    pack = get_object_or_404(StarterPack, pk=pack_id)
    try:
        dropped = starter_pack_drop(member=request.member, pack=pack, feed_id=feed_id)
    except CurationRefused:
        raise Http404 from None
    if dropped:
        messages.success(request, _("You no longer follow this source."))
    return redirect_next(request, fallback=reverse("feeds:starter_pack", kwargs={"pack_id": pack.pk}))
