"""Members pages: preferences, one-click unsubscribe, invitations, CSV import."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .forms import PreferencesForm
from .models import Member
from .notifications import OPTIONAL_EMAIL_KINDS
from .services import member_preferences_update, member_unsubscribe
from .tokens import TokenInvalid, unsubscribe_token_read


@require_http_methods(["GET", "POST"])
def preferences(request):
    member = request.member
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            member_preferences_update(
                member=member,
                digest=form.cleaned_data["digest"],
                email_opt_outs=form.opt_outs,
                quiet_mode=form.cleaned_data["quiet_mode"],
                time_zone=form.cleaned_data["time_zone"],
                introductions_opt_in=form.cleaned_data["introductions_opt_in"],
            )
            messages.success(request, _("Your preferences are saved."))
            return redirect("members:preferences")
    else:
        form = PreferencesForm.for_member(member)
    return render(request, "members/preferences.html", {"form": form, "member": member})


# The one CSRF exemption of the site (plnorg.permissions.CSRF_EXEMPT_URL_NAMES):
# mail clients POST "List-Unsubscribe=One-Click" (RFC 8058) with no cookies and
# no session. The signed token in the URL is the credential, and all it can do
# is turn one kind of optional email off.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    try:
        claim = unsubscribe_token_read(token)
        member = Member.objects.select_related("user").get(pk=claim.member_id, user__is_active=True)
        if claim.kind not in OPTIONAL_EMAIL_KINDS:
            raise TokenInvalid(_("This unsubscribe link is not valid. Change your email preferences instead."))
    except Member.DoesNotExist:
        return render(
            request,
            "members/unsubscribe.html",
            {"error": _("This unsubscribe link belongs to an account that no longer exists.")},
            status=400,
        )
    except TokenInvalid as exc:
        return render(request, "members/unsubscribe.html", {"error": exc.message}, status=400)
    label = OPTIONAL_EMAIL_KINDS[claim.kind]
    if request.method == "POST":
        member_unsubscribe(member=member, kind=claim.kind)
        return render(request, "members/unsubscribe.html", {"done": True, "label": label, "token": token})
    return render(request, "members/unsubscribe.html", {"label": label, "token": token, "email": member.user.email})
