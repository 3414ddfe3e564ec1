"""Introductions: "People you might meet", the leaders' suggestions, sending
an introduction, and the introduction page for the pair."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.redirects import redirect_next
from feeds.models import Subscription
from members.models import OrganizationSettings

from .forms import AnswerForm, IntroductionForm, MetForm
from .models import Introduction, IntroductionSuggestion
from .services.funnel import introductions_tile_context
from .services.introduction import (
    IntroductionError,
    introduction_pair,
    introduction_record_met,
    introduction_send,
    member_introductions_opt_in_set,
)
from .services.introduction import (
    introduction_answer as introduction_answer_service,
)
from .services.suggestions import (
    connector_team_counts,
    current_suggestions,
    last_computation,
    member_connector_status,
    suggestion_reason,
    suggestions_for_member,
)

INTRODUCTION_RELATED = ("member_a__user", "member_a__team", "member_b__user", "member_b__team", "sender__member")


def _with_reasons(suggestions):
    for suggestion in suggestions:
        suggestion.reason = suggestion_reason(sources=suggestion.common_sources, topics=suggestion.common_topics)
    return suggestions


def _is_leader(user) -> bool:
    return user.is_staff or user.is_leader


def profile_url(member) -> str:
    """The member's profile page (what colleagues see), when that page exists."""
    for kwargs in ({"member_id": member.pk}, {"pk": member.pk}):
        try:
            return reverse("feeds:profile", kwargs=kwargs)
        except NoReverseMatch:
            continue
    return ""


@require_GET
def people_you_might_meet(request):
    member = request.member
    org = OrganizationSettings.get()
    suggestions = []
    if org.introduction_suggestions_enabled:
        suggestions = _with_reasons(list(suggestions_for_member(member)[:10]))
        for suggestion in suggestions:
            suggestion.other = suggestion.member_b if suggestion.member_a_id == member.pk else suggestion.member_a
    introductions = list(
        Introduction.objects.involving(member).select_related(*INTRODUCTION_RELATED).order_by("-created_at")[:50]
    )
    for introduction in introductions:
        introduction.other_member = introduction.other(member)
        introduction.my_answer = introduction.answer_of(member)
    context = {
        "suggestions_enabled": org.introduction_suggestions_enabled,
        "connectors_enabled": org.connectors_enabled,
        "suggestions": suggestions,
        "introductions": introductions,
        # The connector line is a badge: quiet mode hides it.
        "connector": member_connector_status(member) if org.connectors_enabled and not member.quiet_mode else None,
        "computed": last_computation("suggestions") if org.introduction_suggestions_enabled else None,
        "is_leader": _is_leader(request.user),
    }
    return render(request, "plnorg/introductions/people.html", context)


@require_POST
def introductions_opt_in(request):
    opted_in = request.POST.get("opt_in") == "1"
    member_introductions_opt_in_set(member=request.member, opted_in=opted_in)
    if opted_in:
        messages.success(request, _("You can now be suggested for introductions."))
    else:
        messages.success(request, _("You will no longer be suggested or offered for introductions."))
    return redirect_next(request, fallback="people_you_might_meet")


@require_GET
def introductions_suggestions(request):
    org = OrganizationSettings.get()
    suggestions = []
    if org.introduction_suggestions_enabled:
        suggestions = _with_reasons(list(current_suggestions()[:50]))
    sent = list(
        Introduction.objects.filter(sender=request.user)
        .select_related(*INTRODUCTION_RELATED)
        .order_by("-created_at")[:50]
    )
    context = {
        "suggestions_enabled": org.introduction_suggestions_enabled,
        "connectors_enabled": org.connectors_enabled,
        "suggestions": suggestions,
        "sent": sent,
        "computed": last_computation("suggestions") if org.introduction_suggestions_enabled else None,
        "connector_teams": connector_team_counts() if org.connectors_enabled else [],
        "connectors_computed": last_computation("connectors") if org.connectors_enabled else None,
        **introductions_tile_context(),
    }
    return render(request, "plnorg/introductions/leaders.html", context)


def _suggestion_for(member_1, member_2) -> IntroductionSuggestion | None:
    a, b = introduction_pair(member_1, member_2)
    return IntroductionSuggestion.objects.filter(member_a=a, member_b=b).first()


@require_http_methods(["GET", "POST"])
def introduction_new(request):
    """Any member introduces two colleagues (or asks to meet someone);
    leaders start from a suggestion (?suggestion=<id>)."""
    suggestion = None
    # Switched off, stored suggestions are not used: no "Suggested:" card, no
    # computed reason in the introduction (its page and email), no funnel credit.
    suggestions_enabled = OrganizationSettings.get().introduction_suggestions_enabled
    if request.method == "POST":
        form = IntroductionForm(request.POST)
        if form.is_valid():
            member_1, member_2 = form.cleaned_data["member_1"], form.cleaned_data["member_2"]
            stored = _suggestion_for(member_1, member_2) if suggestions_enabled else None
            try:
                introduction = introduction_send(
                    sender=request.user,
                    member_1=member_1,
                    member_2=member_2,
                    note=form.cleaned_data["note"],
                    reason=suggestion_reason(sources=stored.common_sources, topics=stored.common_topics)
                    if stored
                    else "",
                    from_suggestion=bool(stored and stored.is_current),
                )
            except IntroductionError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Introduction sent. Both will be asked whether they accept."))
                return redirect("introduction_detail", introduction_id=introduction.pk)
    else:
        initial = {}
        suggestion_id = request.GET.get("suggestion", "")
        if suggestion_id.isdigit() and suggestions_enabled and _is_leader(request.user):
            suggestion = current_suggestions().filter(pk=int(suggestion_id)).first()
            if suggestion is not None:
                _with_reasons([suggestion])
                initial = {"member_1": suggestion.member_a_id, "member_2": suggestion.member_b_id}
        with_id = request.GET.get("with", "")
        if with_id.isdigit():
            initial = {"member_1": request.member.pk, "member_2": int(with_id)}
        form = IntroductionForm(initial=initial)
    return render(
        request,
        "plnorg/introductions/new.html",
        {"form": form, "suggestion": suggestion, "opted_in": request.member.introductions_opt_in},
    )


def _introduction_for(request, introduction_id: int) -> Introduction:
    return get_object_or_404(
        Introduction.objects.visible_to(request.user).select_related(*INTRODUCTION_RELATED), pk=introduction_id
    )


@require_GET
def introduction_detail(request, introduction_id: int):
    introduction = _introduction_for(request, introduction_id)
    member = request.member
    side = introduction.side(member)
    other = introduction.other(member) if side else None
    show_contact = bool(side and introduction.both_accepted)
    shared = []
    if show_contact:
        shared = list(
            Subscription.objects.shared().filter(member=other).select_related("feed").order_by("kind", "feed__title")
        )
    context = {
        "introduction": introduction,
        "side": side,
        "other": other,
        "my_answer": introduction.answer_of(member) if side else "",
        "my_met": introduction.met_of(member) if side else "",
        "can_answer": bool(
            side
            and introduction.answer_of(member) == Introduction.Answer.PENDING
            and introduction.state != Introduction.State.DECLINED
        ),
        "can_say_met": show_contact,
        "show_contact": show_contact,
        "shared": shared,
        "other_profile_url": profile_url(other) if show_contact else "",
        "met_form": MetForm(initial={"answer": introduction.met_of(member) or None}) if show_contact else None,
    }
    return render(request, "plnorg/introductions/detail.html", context)


def _pair_member_or_404(request, introduction: Introduction):
    if introduction.side(request.member) is None:
        raise Http404
    return request.member


@require_POST
def introduction_answer(request, introduction_id: int):
    introduction = _introduction_for(request, introduction_id)
    member = _pair_member_or_404(request, introduction)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose accept or decline."))
        return redirect("introduction_detail", introduction_id=introduction.pk)
    accept = form.cleaned_data["answer"] == "accept"
    try:
        introduction_answer_service(introduction_id=introduction.pk, member=member, accept=accept)
    except IntroductionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("You accepted. You will see each other's contact once both accept.")
            if accept
            else _("You declined. Nobody will suggest this introduction again."),
        )
    return redirect("introduction_detail", introduction_id=introduction.pk)


@require_POST
def introduction_met(request, introduction_id: int):
    introduction = _introduction_for(request, introduction_id)
    member = _pair_member_or_404(request, introduction)
    form = MetForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose yes, not yet or no."))
        return redirect("introduction_detail", introduction_id=introduction.pk)
    try:
        introduction_record_met(introduction_id=introduction.pk, member=member, answer=form.cleaned_data["answer"])
    except IntroductionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Thank you, your answer is recorded."))
    return redirect("introduction_detail", introduction_id=introduction.pk)


def sample_introduction(user) -> dict | None:
    """Permission-map sample: an introduction this user may open (any for
    anonymous, to check the sign-in redirect)."""
    queryset = Introduction.objects.all() if user is None else Introduction.objects.visible_to(user)
    introduction = queryset.order_by("pk").first()
    return None if introduction is None else {"introduction_id": introduction.pk}
