"""django-allauth adapters: sign-up domains, the outbox, member profiles, SSO.

Company single sign-on is an OpenID Connect provider that an admin configures
in the Django admin (Social applications, provider "openid_connect"). allauth
talks to that provider (discovery, token, userinfo, JWKS) with `requests`, not
with our safe fetcher `feeds.fetch.fetch`: the provider's URL is set by an
admin, never by a member, so it is the one accepted exception to "all outbound
HTTP goes through the safe fetcher" (and the company IdP may well live on a
private network the safe fetcher refuses).
"""

import hashlib
import uuid

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django import forms
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.shortcuts import render
from django.utils.translation import gettext as _

from .models import OrganizationSettings
from .outbox import email_enqueue
from .services import member_ensure


def signup_domains() -> list[str]:
    """The email domains sign-up is limited to: the SIGNUP_DOMAINS setting plus
    the extra domains admins add in Organization settings. Empty: any domain."""
    extra = OrganizationSettings.objects.filter(pk=1).values_list("signup_domains", flat=True).first() or ""
    extra_domains = [d.strip().lower().lstrip("@") for d in extra.split(",") if d.strip()]
    return sorted(set(settings.SIGNUP_DOMAINS) | set(extra_domains))


def email_domain_allowed(email: str) -> bool:
    domains = signup_domains()
    if not domains:
        return True
    domain = email.rsplit("@", 1)[-1].lower()
    return domain in domains


def domain_refusal_message() -> str:
    return _("Sign-up is limited to addresses at %(domains)s. Use your work email address.") % {
        "domains": ", ".join(signup_domains())
    }


def claim_is_true(value) -> bool:
    """An OpenID Connect boolean claim. Most providers send JSON true; some send
    the string "true". Anything else (including the string "false", which
    Python would call truthy) is false."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() == "true"


def _oidc_claims(sociallogin) -> dict:
    """The provider's claims: userinfo when fetched, else the ID token's
    (allauth 65.11+ keeps both in extra_data; older rows are the claims)."""
    extra = sociallogin.account.extra_data or {}
    return extra.get("userinfo") or extra.get("id_token") or extra


def _provider_email(sociallogin) -> str:
    """The email the provider sent. allauth blanks `user.email` when our
    clean_email refuses the domain, so read the claims as well."""
    email = sociallogin.user.email if sociallogin.user is not None else ""
    if not email:
        claims = _oidc_claims(sociallogin)
        email = claims.get("email") if isinstance(claims.get("email"), str) else ""
    return (email or "").strip().lower()


class AccountAdapter(DefaultAccountAdapter):
    def clean_email(self, email: str) -> str:
        email = super().clean_email(email).lower()
        if not email_domain_allowed(email):
            raise forms.ValidationError(domain_refusal_message())
        return email

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            member_ensure(user=user)
        return user

    def format_email_subject(self, subject: str) -> str:
        return f"[{settings.SITE_NAME}] {subject}"

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Every allauth email goes through the outbox like all our mail.

        The email is rendered exactly as allauth would send it; the outbox row
        is written in the request's transaction and sent by a task. The
        idempotency key is derived from the request (its id), the kind, the
        recipient and the content, so the same email is never written twice
        for one request, while a later request (a resend) writes a new one.
        """
        request = allauth_context.request
        ctx = {
            "request": request,
            "email": email,
            "current_site": get_current_site(request),
            "site_name": settings.SITE_NAME,
            "organization_name": settings.ORGANIZATION_NAME,
            **context,
        }
        message = self.render_mail(template_prefix, email, ctx)
        body_html = next(
            (content for content, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"), ""
        )
        if message.content_subtype == "html":
            body_text, body_html = "", message.body
        else:
            body_text = message.body
        kind = template_prefix.rsplit("/", 1)[-1]
        cause = getattr(request, "request_id", "") or uuid.uuid4().hex
        digest = hashlib.sha256(f"{email}\n{message.subject}\n{body_text}\n{body_html}".encode()).hexdigest()[:24]
        user = context.get("user")
        email_enqueue(
            to=email,
            kind=kind,
            subject=message.subject,
            body_text=body_text,
            body_html=body_html,
            user=user if getattr(user, "pk", None) else None,
            idempotency_key=f"allauth:{kind}:{cause}:{digest}",
        )


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def populate_user(self, request, sociallogin, data):
        """Also decide, in one place, whether the provider's email counts as
        verified: only when the provider says so with `email_verified` true
        (allauth 65 copies the raw claim, so a string "false" would count)."""
        user = super().populate_user(request, sociallogin, data)
        if getattr(sociallogin.provider, "id", "") == "openid_connect":
            verified = claim_is_true(_oidc_claims(sociallogin).get("email_verified"))
            for address in sociallogin.email_addresses:
                address.verified = verified
        return user

    def pre_social_login(self, request, sociallogin) -> None:
        email = _provider_email(sociallogin)
        if not sociallogin.is_existing and email and not email_domain_allowed(email):
            raise ImmediateHttpResponse(
                render(request, "members/signup_refused.html", {"message": domain_refusal_message()}, status=403)
            )
        if sociallogin.is_existing and not sociallogin.user.is_active:
            raise ImmediateHttpResponse(render(request, "account/account_inactive.html", status=403))

    def is_open_for_signup(self, request, sociallogin) -> bool:
        email = _provider_email(sociallogin)
        return bool(email) and email_domain_allowed(email)

    def save_user(self, request, sociallogin, form=None):
        user = super().save_user(request, sociallogin, form)
        claims = _oidc_claims(sociallogin)
        name = " ".join(part for part in (claims.get("given_name"), claims.get("family_name")) if part) or claims.get(
            "name", ""
        )
        member_ensure(user=user, display_name=name)
        return user
