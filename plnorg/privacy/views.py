"""A member's data (what plnorg records, the download, account deletion) and
admins' offboarding pages."""

import json

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from members.models import Member

from .forms import DeleteAccountForm, OffboardForm
from .services import member_account_delete, member_data_export, member_offboard
from .transparency import transparency_report


def transparency(request):
    return render(request, "plnorg/transparency.html", transparency_report(member=request.member))


def my_data(request):
    form = DeleteAccountForm(expected=request.user.email)
    return render(request, "plnorg/my_data.html", {"form": form})


def my_data_download(request):
    data = member_data_export(member=request.member, request=request)
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False, default=str), content_type="application/json; charset=utf-8"
    )
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="plnorg-my-data-{stamp}.json"'
    return response


@require_POST
def account_delete(request):
    form = DeleteAccountForm(request.POST, expected=request.user.email)
    if not form.is_valid():
        return render(request, "plnorg/my_data.html", {"form": form}, status=400)
    member = request.member
    logout(request)
    member_account_delete(member=member)
    messages.success(request, _("Your account and your data are deleted. Thank you for taking part."))
    return redirect("landing")


@require_http_methods(["GET", "POST"])
def offboard(request, member_id: int):
    leaver = get_object_or_404(Member.objects.active().select_related("user", "team"), pk=member_id)
    form = OffboardForm(request.POST or None, leaver=leaver)
    if request.method == "POST" and form.is_valid():
        member_offboard(member=leaver, actor=request.user, replacement=form.cleaned_data["replacement"])
        messages.success(request, _("%(name)s is deactivated.") % {"name": leaver.name})
        return redirect("offboarding")
    teams = list(leaver.user.managed_teams.all())
    return render(request, "plnorg/offboard.html", {"leaver": leaver, "form": form, "teams": teams})


def offboarding(request):
    members = Member.objects.active().select_related("user", "team").order_by("display_name")
    return render(request, "plnorg/offboarding.html", {"members": members})
