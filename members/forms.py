"""Forms of the members pages: preferences, invitations, CSV import."""

import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Member
from .notifications import OPTIONAL_EMAIL_KINDS


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class PreferencesForm(forms.Form):
    digest = forms.ChoiceField(label=_("Digest of new posts"), choices=Member.Digest.choices, widget=forms.RadioSelect)
    emails = forms.MultipleChoiceField(
        label=_("Emails I want"),
        required=False,
        choices=list(OPTIONAL_EMAIL_KINDS.items()),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Untick any you do not want. Sign-in and password emails are always sent."),
    )
    quiet_mode = forms.BooleanField(
        label=_("Quiet mode: hide nudges and badges"),
        required=False,
        help_text=_("A digest you chose still arrives."),
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=_time_zone_choices)
    introductions_opt_in = forms.BooleanField(
        label=_("Colleagues may be suggested to meet me"),
        required=False,
        help_text=_("Leaders can then suggest an introduction; you can always decline."),
    )
    calendar_invitations = forms.BooleanField(
        label=_("Calendar invitations for the workshops I register for"),
        required=False,
        help_text=_(
            "Outlook, Google and Apple calendars add each session when you register and move or remove it when it "
            "changes or is cancelled; nothing to answer. Off: confirmations carry a calendar file to add "
            "yourself, and sessions already in your calendar are still moved or removed."
        ),
    )

    @classmethod
    def for_member(cls, member: Member) -> "PreferencesForm":
        opted_out = set(member.email_opt_outs or [])
        return cls(
            initial={
                "digest": member.digest,
                "emails": [kind for kind in OPTIONAL_EMAIL_KINDS if kind not in opted_out],
                "quiet_mode": member.quiet_mode,
                "time_zone": member.time_zone,
                "introductions_opt_in": member.introductions_opt_in,
                "calendar_invitations": member.calendar_invitations,
            }
        )

    @property
    def opt_outs(self) -> list[str]:
        wanted = set(self.cleaned_data["emails"])
        return [kind for kind in OPTIONAL_EMAIL_KINDS if kind not in wanted]


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    display_name = forms.CharField(label=_("Name"), required=False, max_length=120)
    team = forms.ModelChoiceField(label=_("Team"), queryset=None, required=False)

    def __init__(self, *args, **kwargs):
        from .models import Team

        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.all()


class CSVImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"), help_text=_("Columns: email, name, team, manager email (first line). At most 1 MB.")
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 1024 * 1024:
            raise forms.ValidationError(_("That file is larger than 1 MB."))
        return upload
