"""The forms of a member's data pages and of offboarding."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members.models import Member


class DeleteAccountForm(forms.Form):
    email = forms.CharField(label=gettext_lazy("Type your email address to confirm"), max_length=254)

    def __init__(self, *args, expected: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected = expected

    def clean_email(self):
        value = self.cleaned_data["email"].strip().lower()
        if value != self.expected.lower():
            raise forms.ValidationError(_("That is not your email address; nothing was deleted."))
        return value


class OffboardForm(forms.Form):
    replacement = forms.ModelChoiceField(
        label=gettext_lazy("Who takes over their teams and roles?"),
        queryset=Member.objects.none(),
        required=False,
        help_text=gettext_lazy("Leave empty: admins approve the team's time until a manager is set."),
    )

    def __init__(self, *args, leaver: Member, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["replacement"].queryset = Member.objects.active().exclude(pk=leaver.pk).select_related("user")
