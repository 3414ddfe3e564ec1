"""What plnorg records about a member, who sees it, and for how long —
generated from the live settings so the page cannot drift from the truth."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from members.models import OrganizationSettings


@dataclass(frozen=True)
class Record:
    what: str
    seen_by: list[str]
    kept: str


def _days(n: int) -> str:
    if n % 365 == 0:
        years = n // 365
        return _("%(n)d year(s)") % {"n": years}
    return _("%(n)d days") % {"n": n}


def transparency_report(*, member) -> dict:
    org = OrganizationSettings.get()
    you = _("you")
    admins = _("admins (to run the service)")
    records = [
        Record(
            _("Your profile: name, team, job title, bio, interests, time zone"),
            [you, _("colleagues (name, team, job title, bio, interests)"), admins],
            _("until you delete your account"),
        ),
        Record(
            _("Accounts and sources you shared with colleagues"),
            [you, _("colleagues"), _("facilitators"), _("leaders (in the stream and in aggregate figures)"), admins],
            _("until you remove them or delete your account"),
        ),
        Record(
            _("Accounts and sources you did not share"),
            [you, admins],
            _("until you remove them or delete your account; they count only in plain totals"),
        ),
        Record(
            _("Entries fetched from shared feeds (public posts)"),
            [_("everyone in the organization")],
            _("%(period)s, except entries picked, saved or recommended")
            % {"period": _days(settings.ENTRY_RETENTION_DAYS)},
        ),
        Record(
            _(
                "Your preferences: digest, optional emails, quiet mode, sharing pause, introductions, calendar invitations"
            ),
            [you, admins],
            _("until you delete your account"),
        ),
        Record(
            _("What you read, keep unread and save in the stream (read state)"),
            [you, admins],
            _("until you delete your account; entries older than %(period)s count as read")
            % {"period": _days(settings.READER_UNREAD_DAYS)},
        ),
        Record(
            _("App passwords for your reading apps: name, when made and last used (never the password itself)"),
            [you, admins],
            _("until you delete your account; revoked ones are listed as revoked"),
        ),
        Record(
            _("Workshop registrations, attendance, feedback, and the calendar invitations sent to you"),
            [you, _("the workshop's facilitators"), _("leaders (averages for 5 or more answers only)"), admins],
            _("until you delete your account"),
        ),
        Record(
            _("PLN time you record"),
            [
                you,
                _("your manager (who approves it)"),
                _("payroll via admins' exports"),
                _("leaders (team totals of 5 or more people only)"),
            ],
            _("approved time is kept for payroll without your name after you delete your account; drafts are deleted"),
        ),
        Record(
            _(
                "If your organization's identity provider manages accounts here (SCIM): its sign-in name and id "
                "for you, your given and family name"
            ),
            [you, admins],
            _("until you delete your account"),
        ),
        Record(
            _("Emails plnorg sent you"),
            [admins],
            _("%(period)s after sending") % {"period": _days(settings.OUTBOX_RETENTION_DAYS)},
        ),
        Record(
            _("Fetch logs of feeds (no personal data)"),
            [admins],
            _days(settings.FETCH_LOG_RETENTION_DAYS),
        ),
        Record(
            _("Audit log of sensitive actions (role changes, exports, deletions, moderation)"),
            [admins],
            _("kept; it cannot be edited or deleted through the site"),
        ),
    ]
    analytics = [
        (
            _("Introduction suggestions"),
            org.introduction_suggestions_enabled,
            _(
                "Suggests colleagues with shared sources or topics to meet. Only members who opted in take part; you have %(state)s."
            )
            % {"state": _("opted in") if member.introductions_opt_in else _("not opted in")},
        ),
        (
            _("Connectors"),
            org.connectors_enabled,
            _(
                "Finds people who bridge groups, from shared sources only. Leaders see counts per team of 5 or more; only you see whether you are one."
            ),
        ),
        (
            _("Network figures"),
            org.network_figures_enabled,
            _(
                "Aggregate figures about shared sources (diversity, overlap between teams) on the network view and the dashboard."
            ),
        ),
    ]
    return {
        "records": records,
        "analytics": analytics,
        "sharing_paused": member.sharing_paused,
        "mfa_required": settings.MFA_REQUIRED_FOR_PRIVILEGED,
        "signup_domains": sorted(set(settings.SIGNUP_DOMAINS) | set(org.signup_domain_list)),
    }
