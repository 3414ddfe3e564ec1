"""My PLN: a member's accounts and sources, onboarding, profiles, OPML.

Thin views: forms validate, feeds.services and feeds.opml do the work. Every
subscription a view touches comes from the signed-in member's own queryset,
so anyone else's answers 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from members.models import Member
from members.services import member_sharing_set

from ..forms.pln import OPMLImportForm, SubscriptionAddForm, SubscriptionEditForm, share_value
from ..models import Subscription
from ..opml import OPMLError, opml_export, opml_import
from ..platforms import PLATFORMS, get_platform
from ..services import (
    SubscriptionRefused,
    subscription_add_by_handle,
    subscription_add_by_url,
    subscription_remove,
    subscription_update,
)


def _my_subscriptions(request: HttpRequest):
    return Subscription.objects.filter(member=request.member).select_related("feed")


def _pln_context(request: HttpRequest, **extra) -> dict:
    # feed__websub: each feed's instant-updates state, shown in its fetch health.
    subscriptions = list(_my_subscriptions(request).select_related("feed__websub").order_by("kind", "-added_at", "-pk"))
    return {
        "member": request.member,
        "accounts": [s for s in subscriptions if s.kind == Subscription.Kind.ACCOUNT],
        "sources": [s for s in subscriptions if s.kind == Subscription.Kind.SOURCE],
        "add_form": extra.pop("add_form", None) or SubscriptionAddForm(),
        "platforms": PLATFORMS,
        **extra,
    }


def my_pln(request: HttpRequest) -> HttpResponse:
    return render(request, "feeds/pln/my_pln.html", _pln_context(request))


def _add(request: HttpRequest, form: SubscriptionAddForm):
    """Run the add service for a valid form: (result, None) or (None, refusal message)."""
    data = form.cleaned_data
    common = {
        "member": request.member,
        "kind": data["kind"],
        "is_shared": share_value(data["share"]),
        "topics": data["topics"],
    }
    platform = data["platform"]
    try:
        if platform and not get_platform(platform).uses_discovery:
            result = subscription_add_by_handle(
                platform=platform, handle=data["value"], choose=data["choose"] or None, **common
            )
        else:
            result = subscription_add_by_url(
                url=data["value"], platform=platform or None, choose=data["choose"] or None, **common
            )
    except SubscriptionRefused as exc:
        return None, exc.message
    return result, None


def _added_message(request: HttpRequest, result) -> None:
    sub = result.subscription
    name = sub.feed.display_title
    if not result.created:
        messages.info(request, _("%(name)s is already in your PLN; nothing changed.") % {"name": name})
        return
    if sub.is_shared and not request.member.sharing_paused:
        messages.success(request, _("Added %(name)s. Colleagues can see it.") % {"name": name})
    else:
        messages.success(request, _("Added %(name)s. Only you can see it.") % {"name": name})


@require_POST
def subscription_add(request: HttpRequest) -> HttpResponse:
    """Add from My PLN or from onboarding (field `origin`): either way the
    member lands on My PLN with the new item, or back on the form with the reason."""
    form = SubscriptionAddForm(request.POST)
    from_onboarding = request.POST.get("origin") == "onboarding"
    template = "feeds/onboarding.html" if from_onboarding else "feeds/pln/my_pln.html"
    context_for = _onboarding_context if from_onboarding else _pln_context
    if not form.is_valid():
        return render(request, template, context_for(request, add_form=form))
    result, refusal = _add(request, form)
    if refusal:
        form.add_error("value", refusal)
        return render(request, template, context_for(request, add_form=form))
    if result.needs_choice:
        return render(
            request,
            "feeds/pln/choose.html",
            {"form": form, "candidates": result.candidates, "origin": "onboarding" if from_onboarding else ""},
        )
    _added_message(request, result)
    if from_onboarding and request.member.onboarded_at is None:
        Member.objects.filter(pk=request.member.pk).update(onboarded_at=timezone.now())
    return redirect("feeds:my_pln")


@require_http_methods(["GET", "POST"])
def subscription_edit(request: HttpRequest, subscription_id: int) -> HttpResponse:
    subscription = get_object_or_404(_my_subscriptions(request), pk=subscription_id)
    if request.method == "POST":
        form = SubscriptionEditForm(request.POST)
        if form.is_valid():
            subscription_update(
                subscription=subscription,
                kind=form.cleaned_data["kind"],
                is_shared=form.cleaned_data["is_shared"],
                topics=form.cleaned_data["topics"],
            )
            messages.success(request, _("Saved %(name)s.") % {"name": subscription.feed.display_title})
            return redirect("feeds:my_pln")
    else:
        form = SubscriptionEditForm(
            initial={
                "kind": subscription.kind,
                "is_shared": subscription.is_shared,
                "topics": ", ".join(subscription.topics or []),
            }
        )
    return render(
        request, "feeds/pln/edit.html", {"form": form, "subscription": subscription, "member": request.member}
    )


@require_POST
def subscription_delete(request: HttpRequest, subscription_id: int) -> HttpResponse:
    subscription = get_object_or_404(_my_subscriptions(request), pk=subscription_id)
    name = subscription.feed.display_title
    subscription_remove(subscription=subscription)
    messages.success(request, _("Removed %(name)s from your PLN.") % {"name": name})
    return redirect("feeds:my_pln")


@require_POST
def sharing_pause(request: HttpRequest) -> HttpResponse:
    paused = request.POST.get("paused") == "1"
    member_sharing_set(member=request.member, paused=paused)
    if paused:
        messages.success(request, _("Sharing is paused: colleagues see none of your accounts and sources."))
    else:
        messages.success(request, _("Sharing is on again: colleagues see what you chose to share."))
    return redirect("feeds:my_pln")


def profile(request: HttpRequest, member_id: int) -> HttpResponse:
    """What colleagues see of a member: shared accounts and sources only."""
    person = get_object_or_404(Member.objects.active().select_related("user", "team"), pk=member_id)
    shared = list(
        Subscription.objects.shared().filter(member=person).select_related("feed").order_by("kind", "-added_at")
    )
    return render(
        request,
        "feeds/pln/profile.html",
        {
            "person": person,
            "is_me": person.pk == request.member.pk,
            "accounts": [s for s in shared if s.kind == Subscription.Kind.ACCOUNT],
            "sources": [s for s in shared if s.kind == Subscription.Kind.SOURCE],
        },
    )


def _onboarding_context(request: HttpRequest, **extra) -> dict:
    return {
        "member": request.member,
        "add_form": extra.pop("add_form", None) or SubscriptionAddForm(),
        "platforms": PLATFORMS,
        "count": Subscription.objects.filter(member=request.member).count(),
        **extra,
    }


def onboarding(request: HttpRequest) -> HttpResponse:
    return render(request, "feeds/onboarding.html", _onboarding_context(request))


@require_http_methods(["GET", "POST"])
def opml_import_view(request: HttpRequest) -> HttpResponse:
    report = None
    if request.method == "POST":
        form = OPMLImportForm(request.POST, request.FILES)
        if form.is_valid():
            content = form.cleaned_data["file"].read()
            try:
                report = opml_import(
                    member=request.member,
                    content=content,
                    kind=form.cleaned_data["kind"],
                    is_shared=share_value(form.cleaned_data["share"]) is True,
                )
            except OPMLError as exc:
                form.add_error("file", exc.message)
    else:
        form = OPMLImportForm()
    return render(request, "feeds/pln/opml_import.html", {"form": form, "report": report, "member": request.member})


def opml_export_view(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(opml_export(member=request.member), content_type="text/x-opml; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="plnorg-sources.opml"'
    return response
