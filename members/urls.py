"""The members' pages and django-allauth's (sign-in, sign-up, MFA, SSO), each
with its permission-map entry."""

from django.urls import path

from core import permissions as perm

from . import views

app_name = "members"


def _unsubscribe_sample(user) -> dict:
    from .models import Member
    from .tokens import unsubscribe_token_make

    member = Member.objects.filter(user__email="employee@example.com").first() or Member.objects.first()
    return {"token": unsubscribe_token_make(member=member, kind="digest")} if member else None


perm.register(
    {
        "members:preferences": perm.Access(roles=perm.MEMBERS, text="Take part at your own pace"),
        # Anyone holding the signed link (from an email) may turn that one kind
        # of optional email off, signed in or not.
        "members:unsubscribe": perm.Access(roles=perm.PUBLIC, text="Unsubscribe", sample=_unsubscribe_sample),
        "members:invite": perm.Access(roles=perm.ADMINS, text="Invite people"),
        "members:import_csv": perm.Access(roles=perm.ADMINS, text="Import members from CSV"),
        # The token is the credential; a bad one answers 400 with a message.
        "members:invitation_accept": perm.Access(
            roles=perm.PUBLIC,
            text="This invitation link is not valid",
            sample=lambda user: {"token": "expired"},
            status=400,
        ),
    }
)

# --- django-allauth's pages (mounted at accounts/ by the root URLconf) ---------
# allauth enforces its own access rules (signed-in users are sent away from
# "sign in", anonymous ones from "change password"); we declare who reaches
# each page and what it shows, so the page checks cover them too.

SIGNED_IN_REDIRECTED = frozenset({perm.MEMBER})
ANON_REDIRECTED = frozenset({perm.ANONYMOUS})


def _sso_provider(user):
    from allauth.socialaccount.models import SocialApp

    app = SocialApp.objects.filter(provider="openid_connect").first()
    return {"provider_id": app.provider_id} if app else None


def _bad_key(user):
    return {"key": "not-a-real-key"}


def _bad_reset_key(user):
    return {"uidb36": "zz", "key": "not-a-real-key"}


NOT_YET = frozenset({404})


def _public(text, **kw):
    return perm.Access(roles=perm.PUBLIC, text=text, enforced_by_view=True, **kw)


perm.register(
    {
        "account_login": _public("Sign in", redirects=SIGNED_IN_REDIRECTED),
        "account_signup": _public("Sign up", redirects=SIGNED_IN_REDIRECTED),
        "account_logout": _public("Sign out", redirects=ANON_REDIRECTED),
        "account_inactive": _public("This account is inactive"),
        "account_reauthenticate": _public("Confirm access", redirects=ANON_REDIRECTED),
        "account_email": _public("Email addresses", redirects=ANON_REDIRECTED),
        "account_email_verification_sent": _public("Verify your email address"),
        "account_change_password": _public("Change password", redirects=ANON_REDIRECTED),
        "account_set_password": _public("Password", redirects=frozenset({perm.ANONYMOUS, perm.MEMBER})),
        "account_reset_password": _public("Password reset"),
        "account_confirm_login_code": _public("Sign in", redirects=frozenset({perm.ANONYMOUS, perm.MEMBER})),
        "account_confirm_email": _public("Confirm email address", sample=_bad_key),
        "account_reset_password_from_key_done": _public("Password"),
        "account_reset_password_from_key": _public("Bad token", sample=_bad_reset_key),
        "account_reset_password_done": _public("Password reset"),
        "socialaccount_login_cancelled": _public("Login cancelled"),
        "socialaccount_login_error": _public("Third-party login failure", status=401),
        "socialaccount_signup": _public("Sign up", redirects=frozenset({perm.ANONYMOUS, perm.MEMBER})),
        "socialaccount_connections": _public("Account connections", redirects=ANON_REDIRECTED),
        "mfa_index": _public("Two-factor authentication", redirects=ANON_REDIRECTED),
        "mfa_authenticate": _public("Sign in", redirects=frozenset({perm.ANONYMOUS, perm.MEMBER})),
        "mfa_reauthenticate": _public("Confirm access", redirects=frozenset({perm.ANONYMOUS, perm.MEMBER})),
        "mfa_activate_totp": _public("Authenticator app", redirects=frozenset({perm.ANONYMOUS, perm.MEMBER})),
        "mfa_deactivate_totp": _public(
            also_ok=NOT_YET, text="Authenticator app", redirects=frozenset({perm.ANONYMOUS, perm.MEMBER})
        ),
        "mfa_view_recovery_codes": _public(
            also_ok=NOT_YET, text="Recovery codes", redirects=frozenset({perm.ANONYMOUS, perm.MEMBER})
        ),
        "mfa_generate_recovery_codes": _public(
            also_ok=NOT_YET, text="Recovery codes", redirects=frozenset({perm.ANONYMOUS, perm.MEMBER})
        ),
        "mfa_download_recovery_codes": _public(
            also_ok=NOT_YET, text="Recovery codes", redirects=frozenset({perm.ANONYMOUS, perm.MEMBER})
        ),
        "openid_connect_login": _public("Continue", sample=_sso_provider),
        "openid_connect_callback": _public(
            "Sign-in failed", sample=_sso_provider, redirects=frozenset({perm.ANONYMOUS, perm.MEMBER})
        ),
    }
)


urlpatterns: list = [
    path("me/preferences/", views.preferences, name="preferences"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("admin-tools/invite/", views.invite, name="invite"),
    path("admin-tools/import-members/", views.import_csv, name="import_csv"),
    path("invite/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
