"""Optional emails: the kinds a member can turn off, and one-click unsubscribe.

Every optional email of every app (digests, recommendations, workshop
reminders, ...) is one of OPTIONAL_EMAIL_KINDS. Write one with
`optional_email_enqueue(...)`: it checks `email_wanted(member, kind)`, makes
one signed unsubscribe link and puts it both in the footer (with the link to
the preferences page) and in the List-Unsubscribe headers. An email that
renders its own footer (the digest) uses `optional_email_links(...)` and
`email_wanted` itself. Account verification, password reset, invitations and
other mail a member cannot turn off carry none of this.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import OutboundEmail
from .outbox import email_enqueue
from .tokens import unsubscribe_token_make

DIGEST = "digest"
RECOMMENDATIONS = "recommendations"
WORKSHOP_REMINDERS = "workshop_reminders"
WORKSHOP_FEEDBACK = "workshop_feedback"
INTRODUCTIONS = "introductions"
FEED_PROBLEMS = "feed_problems"

# kind -> label shown on the preferences page; order is the page's order.
OPTIONAL_EMAIL_KINDS: dict[str, str] = {
    DIGEST: _("The digest of new posts (daily or weekly, as chosen above)"),
    RECOMMENDATIONS: _("Posts a colleague recommends to me"),
    WORKSHOP_REMINDERS: _("Reminders before a workshop I registered for"),
    WORKSHOP_FEEDBACK: _("A request for feedback after a workshop"),
    INTRODUCTIONS: _("Introductions to colleagues"),
    FEED_PROBLEMS: _("A note when one of my feeds stops working"),
}


def email_wanted(member, kind: str) -> bool:
    """Whether `member` wants optional email of `kind` (active, not opted out;
    the digest also needs a frequency other than "off")."""
    if kind not in OPTIONAL_EMAIL_KINDS:
        raise ValueError(f"Unknown optional email kind: {kind!r}")
    if not member.user.is_active or kind in (member.email_opt_outs or []):
        return False
    if kind == DIGEST:
        return member.digest != member.Digest.OFF
    return True


def unsubscribe_url(member, kind: str) -> str:
    """The absolute, signed link that turns off `kind` for `member` (valid 60 days)."""
    if kind not in OPTIONAL_EMAIL_KINDS:
        raise ValueError(f"Unknown optional email kind: {kind!r}")
    path = reverse("members:unsubscribe", kwargs={"token": unsubscribe_token_make(member=member, kind=kind)})
    return f"{settings.SITE_URL}{path}"


def list_unsubscribe_headers(member, kind: str, *, url: str | None = None) -> dict[str, str]:
    """RFC 2369 / RFC 8058 headers: mail clients show an "unsubscribe" button
    that POSTs to the link without opening a browser session.

    Pass the `url` already printed in the email's footer so header and footer
    carry the same token (a token made a second later differs in its timestamp).
    """
    return {
        "List-Unsubscribe": f"<{url or unsubscribe_url(member, kind)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def preferences_url() -> str:
    """The absolute link to the member's notification preferences page."""
    return f"{settings.SITE_URL}{reverse('members:preferences')}"


@dataclass(frozen=True)
class OptionalEmailLinks:
    """The links of one optional email. Made once per email, so footer and
    List-Unsubscribe header carry the same token."""

    kind: str
    unsubscribe_url: str
    preferences_url: str
    headers: dict[str, str]

    def footer_text(self) -> str:
        return "\n".join(
            [
                "--",
                gettext('You receive this email because "%(label)s" is on in your preferences.')
                % {"label": OPTIONAL_EMAIL_KINDS[self.kind]},
                gettext("Stop this kind of email with one click: %(url)s") % {"url": self.unsubscribe_url},
                gettext("Choose which emails you get: %(url)s") % {"url": self.preferences_url},
            ]
        )

    def footer_html(self) -> str:
        return format_html(
            '<p>{}<br><a href="{}">{}</a> · <a href="{}">{}</a></p>',
            gettext('You receive this email because "%(label)s" is on in your preferences.')
            % {"label": OPTIONAL_EMAIL_KINDS[self.kind]},
            self.unsubscribe_url,
            gettext("Stop this kind of email"),
            self.preferences_url,
            gettext("Choose which emails you get"),
        )


def optional_email_links(member, kind: str) -> OptionalEmailLinks:
    url = unsubscribe_url(member, kind)
    return OptionalEmailLinks(
        kind=kind,
        unsubscribe_url=url,
        preferences_url=preferences_url(),
        headers=list_unsubscribe_headers(member, kind, url=url),
    )


def optional_email_enqueue(
    *,
    member,
    kind: str,
    subject: str,
    body_text: str,
    idempotency_key: str,
    outbox_kind: str = "",
    body_html: str = "",
    attachments: list[dict] | None = None,
) -> OutboundEmail | None:
    """Write an optional email of `kind` to `member` in the outbox, with the
    footer (one-click unsubscribe and preferences links) and the
    List-Unsubscribe headers. Returns None when the member does not want it.

    `outbox_kind` names the email in the outbox when it differs from the
    preference it belongs to (e.g. "workshop_reminder" under
    "workshop_reminders"). Call inside the transaction of the change.
    """
    if not email_wanted(member, kind):
        return None
    links = optional_email_links(member, kind)
    with translation.override(settings.LANGUAGE_CODE):  # like the emails' bodies
        footer_text = links.footer_text()
        footer_html = links.footer_html() if body_html else ""
    return email_enqueue(
        to=member.user.email,
        kind=outbox_kind or kind,
        subject=subject,
        body_text=f"{body_text.rstrip()}\n\n{footer_text}\n",
        body_html=f"{body_html}\n{footer_html}" if body_html else "",
        idempotency_key=idempotency_key,
        user=member.user,
        headers=links.headers,
        attachments=attachments,
    )
