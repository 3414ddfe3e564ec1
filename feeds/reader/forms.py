"""Forms of the reader's pages: read toggles, "mark all as read", app passwords."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .services.app_passwords import NAME_MAX


class ReadToggleForm(forms.Form):
    read = forms.TypedChoiceField(choices=[("1", "read"), ("0", "unread")], coerce=lambda v: v == "1")


class StarToggleForm(forms.Form):
    starred = forms.TypedChoiceField(choices=[("1", "starred"), ("0", "not starred")], coerce=lambda v: v == "1")


class MarkAllReadForm(forms.Form):
    """The newest entry when the page was drawn: entries after it stay unread."""

    newest = forms.IntegerField(min_value=0, max_value=2**63 - 1)


class AppPasswordForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=NAME_MAX,
        help_text=_("Which app or device it is for, for example “NetNewsWire on my laptop”."),
    )
