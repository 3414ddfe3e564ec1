"""Forms of the curation pages (picks, recommendations, starter packs)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import Member

from ..curation import PICK_NOTE_MAX, starter_pack_feeds
from ..models import Feed, StarterPack


class PickForm(forms.Form):
    note = forms.CharField(
        label=_("Why this matters for us"),
        max_length=PICK_NOTE_MAX,
        required=False,
        widget=forms.TextInput,
        help_text=_("One or two sentences shown with the pick."),
    )


class RecommendForm(forms.Form):
    recipient = forms.ModelChoiceField(label=_("Colleague"), queryset=Member.objects.none())
    note = forms.CharField(
        label=_("Note"), max_length=PICK_NOTE_MAX, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, recipients=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipient"].queryset = recipients if recipients is not None else Member.objects.none()
        self.fields["recipient"].label_from_instance = lambda m: f"{m.name} ({m.team})" if m.team_id else m.name


class StarterPackForm(forms.ModelForm):
    feeds = forms.ModelMultipleChoiceField(
        label=_("Sources in the pack"),
        queryset=Feed.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only sources someone shares can go in a pack."),
    )

    class Meta:
        model = StarterPack
        fields = ["title", "topic", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["feeds"].queryset = starter_pack_feeds()
        self.fields["feeds"].label_from_instance = lambda f: f"{f.display_title} ({f.platform})"
        if self.instance.pk:
            self.initial["feeds"] = [item.feed_id for item in self.instance.items.all()]


class DiscoverFollowForm(forms.Form):
    share = forms.BooleanField(label=_("Share it with colleagues"), required=False)
