from django.utils import timezone

from .services import member_ensure


class MemberTimezoneMiddleware:
    """Attach `request.member` and render times in the member's time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.member = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            member = getattr(user, "member", None) if hasattr(user, "member") else None
            request.member = member or member_ensure(user=user)
            timezone.activate(request.member.tzinfo)
        else:
            timezone.deactivate()
        return self.get_response(request)


PASSWORD_METHODS = {"password", "password_reset", "code"}
# Pages a privileged user may still open before enrolling: sign-in/out and
# the MFA pages themselves (all under /accounts/), static files, health.
MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/healthz")


class MFARequiredMiddleware:
    """Admins and leaders who signed in with a password must use two-factor
    authentication: until they have an authenticator app, every page sends
    them to the enrolment page. Those who signed in with SSO rely on their
    provider's MFA. (Signing in with a TOTP app is enforced by allauth itself.)
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._must_enrol(request):
            from django.contrib import messages
            from django.shortcuts import redirect
            from django.utils.translation import gettext as _

            messages.warning(
                request,
                _(
                    "Your role (admin or leader) requires two-factor authentication. Set up an authenticator app to continue."
                ),
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    def _must_enrol(self, request) -> bool:
        from django.conf import settings

        user = getattr(request, "user", None)
        if not settings.MFA_REQUIRED_FOR_PRIVILEGED or user is None or not user.is_authenticated:
            return False
        if request.path.startswith(MFA_EXEMPT_PREFIXES) or not (user.is_staff or user.is_leader):
            return False
        from allauth.account.authentication import get_authentication_records
        from allauth.mfa.models import Authenticator

        methods = {record.get("method") for record in get_authentication_records(request, user)}
        if "socialaccount" in methods or not (methods & PASSWORD_METHODS):
            return False
        return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
