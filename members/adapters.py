"""django-allauth adapters: sign-up domains, the outbox, member profiles."""

import uuid

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django import forms
from django.conf import settings
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from .outbox import email_enqueue
from .services import member_ensure


def email_domain_allowed(email: str) -> bool:
    if not settings.SIGNUP_DOMAINS:
        return True
    domain = email.rsplit("@", 1)[-1].lower()
    return domain in settings.SIGNUP_DOMAINS


def domain_refusal_message() -> str:
    return _("Sign-up is limited to addresses at %(domains)s. Use your work email address.") % {
        "domains": ", ".join(settings.SIGNUP_DOMAINS)
    }


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

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Every allauth email goes through the outbox like all our mail."""
        context = {**context, "site_name": settings.SITE_NAME}
        subject = render_to_string(f"{template_prefix}_subject.txt", context, request=context.get("request"))
        subject = self.format_email_subject(" ".join(subject.splitlines()).strip())
        body_text = render_to_string(f"{template_prefix}_message.txt", context, request=context.get("request"))
        try:
            body_html = render_to_string(f"{template_prefix}_message.html", context, request=context.get("request"))
        except TemplateDoesNotExist:
            body_html = ""
        user = context.get("user")
        email_enqueue(
            to=email,
            kind=template_prefix.rsplit("/", 1)[-1],
            subject=subject,
            body_text=body_text,
            body_html=body_html,
            user=user if getattr(user, "pk", None) else None,
            idempotency_key=f"allauth:{template_prefix}:{email}:{uuid.uuid4()}",
        )


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def pre_social_login(self, request, sociallogin) -> None:
        email = (sociallogin.user.email or "").lower()
        if not sociallogin.is_existing and email and not email_domain_allowed(email):
            raise ImmediateHttpResponse(
                render(request, "members/signup_refused.html", {"message": domain_refusal_message()}, status=403)
            )
        if sociallogin.is_existing and not sociallogin.user.is_active:
            raise ImmediateHttpResponse(render(request, "account/account_inactive.html", status=403))

    def is_open_for_signup(self, request, sociallogin) -> bool:
        email = (sociallogin.user.email or "").lower()
        return bool(email) and email_domain_allowed(email)

    def save_user(self, request, sociallogin, form=None):
        user = super().save_user(request, sociallogin, form)
        name = " ".join(
            part
            for part in (
                sociallogin.account.extra_data.get("given_name"),
                sociallogin.account.extra_data.get("family_name"),
            )
            if part
        ) or sociallogin.account.extra_data.get("name", "")
        member_ensure(user=user, display_name=name)
        return user
