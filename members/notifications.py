"""Optional emails: the kinds a member can turn off, and one-click unsubscribe.

Every optional email of every app (digests, recommendations, workshop
reminders, ...) is one of OPTIONAL_EMAIL_KINDS. Before writing one to the
outbox, call `email_wanted(member, kind)`; put `list_unsubscribe_headers(...)`
in its headers and `unsubscribe_url(...)` in its footer. Account
verification and password-reset mail are not optional and carry none.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

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
