from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import Member

from .models import Introduction


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Member) -> str:
        return f"{obj.name} ({obj.team.name})" if obj.team_id else obj.name


def introducible_members():
    """Only members who chose to be introduced can be picked."""
    return (
        Member.objects.active()
        .filter(introductions_opt_in=True)
        .select_related("user", "team")
        .order_by("display_name", "pk")
    )


class IntroductionForm(forms.Form):
    member_1 = MemberChoiceField(label=_("First person"), queryset=Member.objects.none())
    member_2 = MemberChoiceField(label=_("Second person"), queryset=Member.objects.none())
    note = forms.CharField(
        label=_("Your note to both"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Why they should meet, in a sentence or two."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member_1"].queryset = introducible_members()
        self.fields["member_2"].queryset = introducible_members()

    def clean(self):
        data = super().clean()
        if data.get("member_1") and data.get("member_1") == data.get("member_2"):
            raise forms.ValidationError(_("Choose two different people."))
        return data


class AnswerForm(forms.Form):
    answer = forms.ChoiceField(choices=[("accept", _("Accept")), ("decline", _("Decline"))])


class MetForm(forms.Form):
    answer = forms.ChoiceField(
        choices=[(c.value, c.label) for c in Introduction.Met if c.value],
        widget=forms.RadioSelect,
        label=_("Did you meet?"),
    )
