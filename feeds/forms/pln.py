"""Forms of the My PLN pages: add, edit, import. They validate input; the
services in feeds/services.py do the work."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import Subscription
from ..platforms import PLATFORMS
from ..services import MAX_TOPICS, topics_clean

SHARE_DEFAULT = "default"
SHARE_YES = "yes"
SHARE_NO = "no"
SHARE_CHOICES = [
    (SHARE_DEFAULT, _("As usual: accounts shared, sources private")),
    (SHARE_YES, _("Yes, share with colleagues")),
    (SHARE_NO, _("No, keep it private")),
]


def share_value(choice: str) -> bool | None:
    """The service's `is_shared` for a share choice (None: the kind decides)."""
    return {SHARE_YES: True, SHARE_NO: False}.get(choice)


class TopicsField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 500)
        kwargs.setdefault("label", _("Topics"))
        kwargs.setdefault("help_text", _("Comma-separated, for example: data, teaching, leadership."))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        topics = [t for t in (value or "").split(",") if t.strip()]
        if len(topics) > MAX_TOPICS:
            raise forms.ValidationError(_("At most %(count)d topics.") % {"count": MAX_TOPICS})
        return topics_clean(topics)


class SubscriptionAddForm(forms.Form):
    """One form for every way of naming a feed: a handle on a platform, a
    profile link, a feed URL or a site URL."""

    platform = forms.ChoiceField(
        label=_("Platform"),
        required=False,
        choices=[("", _("Work it out from the address"))] + [(p.slug, p.label) for p in PLATFORMS],
    )
    value = forms.CharField(
        label=_("Handle or web address"),
        max_length=1000,
        help_text=_("For example @ana@mastodon.social, ana.bsky.social, or https://example.com/blog."),
    )
    kind = forms.ChoiceField(
        label=_("What is it?"),
        choices=Subscription.Kind.choices,
        initial=Subscription.Kind.ACCOUNT,
        widget=forms.RadioSelect,
    )
    share = forms.ChoiceField(
        label=_("Share with colleagues?"), choices=SHARE_CHOICES, initial=SHARE_DEFAULT, widget=forms.RadioSelect
    )
    topics = TopicsField()
    # Set when the member picks one of several feeds a site announces.
    choose = forms.URLField(required=False, widget=forms.HiddenInput, max_length=1000, assume_scheme="https")

    def __init__(self, *args, kind_initial: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if kind_initial:
            self.fields["kind"].initial = kind_initial


class SubscriptionEditForm(forms.Form):
    kind = forms.ChoiceField(label=_("What is it?"), choices=Subscription.Kind.choices, widget=forms.RadioSelect)
    is_shared = forms.BooleanField(label=_("Share with colleagues"), required=False)
    topics = TopicsField()


class OPMLImportForm(forms.Form):
    file = forms.FileField(
        label=_("OPML file"),
        help_text=_("Exported from your feed reader (Feedly, Inoreader, Miniflux, NetNewsWire ...), at most 2 MB."),
    )
    kind = forms.ChoiceField(
        label=_("Import them as"),
        choices=Subscription.Kind.choices,
        initial=Subscription.Kind.SOURCE,
        widget=forms.RadioSelect,
    )
    share = forms.ChoiceField(
        label=_("Share with colleagues?"),
        choices=[(SHARE_NO, _("No, keep them private")), (SHARE_YES, _("Yes, share them with colleagues"))],
        initial=SHARE_NO,
        widget=forms.RadioSelect,
    )

    MAX_BYTES = 2 * 1024 * 1024

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(_("That file is larger than 2 MB. Export only your feeds, not their articles."))
        return upload
