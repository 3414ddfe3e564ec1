"""The channel form. Secret fields are write-only: never filled in from what
is saved (nor echoed back after an error); left empty they keep the saved
secret."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from workshops.models import Workshop

from .models import Channel

SAVED = _("Saved — enter a new one to replace it.")


def _secret_input() -> forms.PasswordInput:
    return forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"})


class ChannelForm(forms.ModelForm):
    webhook_url = forms.CharField(
        label=_("Incoming-webhook address"),
        required=False,
        max_length=2000,
        widget=_secret_input(),
        help_text=_(
            "Slack, Mattermost, a Teams workflow (“Post to a channel when a webhook request is received”) or "
            "your own receiver. Whoever has it can post to the channel: plnorg keeps it encrypted."
        ),
    )
    matrix_homeserver = forms.URLField(
        label=_("Matrix homeserver"),
        required=False,
        max_length=300,
        assume_scheme="https",
        help_text=_("e.g. https://matrix.example.org"),
    )
    matrix_access_token = forms.CharField(
        label=_("Matrix access token"),
        required=False,
        max_length=1000,
        widget=_secret_input(),
        help_text=_("Of the account that posts (a bot account in the room). Kept encrypted."),
    )

    class Meta:
        model = Channel
        fields = [
            "name",
            "kind",
            "workshop",
            "matrix_homeserver",
            "matrix_room_id",
            "receives_picks",
            "receives_digest",
            "receives_workshops",
            "receives_introductions",
        ]
        help_texts = {"matrix_room_id": _("It starts with “!”: in Element, the room's settings, Advanced.")}

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        managed = Workshop.objects.managed_by(user).exclude(
            status__in=(Workshop.Status.CANCELLED, Workshop.Status.FINISHED)
        )
        if self.instance.workshop_id:  # keep showing the channel's own workshop
            managed = managed | Workshop.objects.filter(pk=self.instance.workshop_id)
        workshop = self.fields["workshop"]
        workshop.queryset = managed.distinct().order_by("title", "pk")
        if user.is_staff:
            workshop.empty_label = _("The whole organization")
        else:
            workshop.required = True
            workshop.empty_label = None
            workshop.help_text = _(
                "A workshop you facilitate; its channel hears when it is published and its last seats."
            )
            for name in ("receives_picks", "receives_digest", "receives_introductions"):
                del self.fields[name]
            self.fields["receives_workshops"].label = _("this workshop's news: when it is published, its last seats")
        if self.instance.pk is None:
            self.fields["receives_workshops"].initial = True
        if self.instance.webhook_url_sealed:
            self.fields["webhook_url"].help_text = SAVED
        if self.instance.matrix_access_token_sealed:
            self.fields["matrix_access_token"].help_text = SAVED

    @property
    def has_workshops(self) -> bool:
        """Whether there is a workshop to choose (a facilitator needs one)."""
        return not self.fields["workshop"].required or self.fields["workshop"].queryset.exists()

    @property
    def webhook_fields(self) -> list:
        return [self["webhook_url"]]

    @property
    def matrix_fields(self) -> list:
        return [self["matrix_homeserver"], self["matrix_room_id"], self["matrix_access_token"]]

    @property
    def receive_fields(self) -> list:
        names = ("receives_picks", "receives_digest", "receives_workshops", "receives_introductions")
        return [self[name] for name in names if name in self.fields]
