"""Members pages: preferences, one-click unsubscribe, invitations, CSV import,
and the admin's sign-in (which is the site's)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core.redirects import redirect_next, safe_next

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


# The one CSRF exemption of the site (core.permissions.CSRF_EXEMPT_URL_NAMES):
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


@require_http_methods(["GET", "POST"])
def invite(request):
    from .forms import InvitationForm
    from .models import Invitation
    from .services import InvitationRefused, invitation_send

    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = invitation_send(
                email=form.cleaned_data["email"],
                actor=request.user,
                team=form.cleaned_data["team"],
                display_name=form.cleaned_data["display_name"],
            )
        except InvitationRefused as exc:
            form.add_error("email", exc.message)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
            return redirect("members:invite")
    invitations = Invitation.objects.select_related("team", "invited_by")[:50]
    return render(request, "members/invite.html", {"form": form, "invitations": invitations})


@require_http_methods(["GET", "POST"])
def import_csv(request):
    from .forms import CSVImportForm
    from .services import CSVImportError, members_import_csv

    report = None
    form = CSVImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            report = members_import_csv(content=form.cleaned_data["file"].read(), actor=request.user)
        except CSVImportError as exc:
            form.add_error("file", exc.message)
    return render(request, "members/import_csv.html", {"form": form, "report": report})


def invitation_accept(request, token: str):
    """The link in an invitation: sign-up with the email prefilled (and known
    to be verified, since the invitation reached it), then onboarding."""
    from urllib.parse import urlencode

    from django.urls import reverse

    from .models import Invitation
    from .services import invitation_accept as accept

    invitation = Invitation.objects.filter(token=token).first()
    if invitation is None or not invitation.is_usable:
        return render(
            request,
            "members/invitation.html",
            {
                "error": _("This invitation has expired or was already used. Ask an admin for a new one.")
                if invitation
                else _("This invitation link is not valid.")
            },
            status=400,
        )
    onboarding = reverse("feeds:onboarding")
    if request.user.is_authenticated:
        if request.user.email.lower() == invitation.email.lower():
            accept(invitation=invitation, user=request.user)
        return redirect(onboarding)
    request.session["account_verified_email"] = invitation.email
    request.session["invitation_token"] = invitation.token
    return redirect(f"{reverse('account_signup')}?{urlencode({'email': invitation.email, 'next': onboarding})}")


def on_user_signed_up(sender, request, user, **kwargs):
    """allauth's sign-up event: an invitation in the session is now used."""
    from .models import Invitation
    from .services import invitation_accept as accept

    token = request.session.pop("invitation_token", None) if request is not None else None
    invitation = Invitation.objects.filter(token=token).first() if token else None
    if invitation is not None and invitation.is_usable and invitation.email.lower() == user.email.lower():
        accept(invitation=invitation, user=user)


def admin_login(request):
    """The admin's login form is replaced by the site's sign-in (with MFA)."""
    from urllib.parse import urlencode

    from django.urls import reverse

    if request.user.is_authenticated:
        return redirect_next(request, fallback="admin:index") if request.user.is_staff else redirect("home")
    target = safe_next(request) or reverse("admin:index")
    return redirect(f"{reverse('account_login')}?{urlencode({'next': target})}")
