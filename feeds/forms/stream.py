"""Forms of the stream (filters, search) and of moderation (report, hide)."""

from __future__ import annotations

from functools import lru_cache

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from core import dates

from ..models import Report, Subscription
from ..stream import ORDER_DATE, ORDER_RELEVANCE, StreamFilters


@lru_cache(maxsize=64)
def _options_html(choices: tuple[tuple[str, str], ...]) -> str:
    """The <option>s of one select, built once per list of choices (the same
    for everyone until the cached filter choices change)."""
    return format_html_join("", '<option value="{}">{}</option>', choices)


class _ListedChoiceField(forms.TypedChoiceField):
    """A select whose options come from the cached filter choices, kept as
    given: Django would normalize a long list (every member) on each request,
    and the stream renders the options itself. Valid values are those listed."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.options: tuple[tuple[str, str], ...] = ()
        self.values: frozenset[str] = frozenset()

    def list(self, options: tuple[tuple[str, str], ...]) -> None:
        self.options = options
        self.values = frozenset(value for value, _text in options)
        self.choices = [("", _("Any"))]  # rendered apart; see select_fields

    def valid_value(self, value) -> bool:
        return str(value) in self.values


class StreamFilterForm(forms.Form):
    """The stream's filters, all optional and kept in the URL. An invalid
    value is ignored (the rest still applies) and shown as an error."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    kind = forms.ChoiceField(
        label=_("View"),
        required=False,
        choices=[("", _("All")), (Subscription.Kind.ACCOUNT, _("What we publish")), ("source", _("What we read"))],
    )
    team = _ListedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    member = _ListedChoiceField(label=_("Member"), required=False, coerce=int, empty_value=None)
    platform = _ListedChoiceField(label=_("Platform"), required=False, empty_value="")
    topic = _ListedChoiceField(label=_("Topic"), required=False, empty_value="")
    since = dates.DateField(
        label=_("From"), required=False, dates=dates.PUBLISHED_DATES, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = dates.DateField(
        label=_("To"), required=False, dates=dates.PUBLISHED_DATES, widget=forms.DateInput(attrs={"type": "date"})
    )
    picks = forms.BooleanField(label=_("Picks only"), required=False)
    order = forms.ChoiceField(
        label=_("Order"),
        required=False,
        choices=[(ORDER_DATE, _("Newest first")), (ORDER_RELEVANCE, _("Most relevant (newest 1,000 matches)"))],
    )

    def __init__(self, data=None, *, choices: dict[str, list]):
        super().__init__(data)
        self.fields["team"].list(tuple((str(pk), str(name)) for pk, name in choices["teams"]))
        self.fields["member"].list(tuple((str(pk), str(name)) for pk, name in choices["members"]))
        self.fields["platform"].list(tuple((p, p.capitalize()) for p in choices["platforms"]))
        self.fields["topic"].list(tuple((t, t) for t in choices["topics"]))

    def select_fields(self) -> list[dict]:
        """Team, member, platform and topic as plain data: the stream renders
        these selects itself (Django's widget templates cost a template per
        option, and the member list is long)."""
        self.is_valid()
        fields = []
        for name in ("team", "member", "platform", "topic"):
            field = self.fields[name]
            current = "" if name in self.errors else str(self.data.get(name, "") or "")
            options = _options_html(field.options)
            if current:
                chosen = format_html('<option value="{}">', current)
                options = mark_safe(options.replace(chosen, chosen[:-1] + " selected>", 1))  # noqa: S308 - escaped above
            fields.append({"name": name, "label": field.label, "options": options, "errors": self.errors.get(name, [])})
        return fields

    def filters(self) -> StreamFilters:
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        values = {
            "kind": data.get("kind") or "",
            "team": data.get("team"),
            "member": data.get("member"),
            "platform": data.get("platform") or "",
            "topic": data.get("topic") or "",
            "since": data.get("since"),
            "until": data.get("until"),
            "q": " ".join((data.get("q") or "").split()),
            "order": data.get("order") or ORDER_DATE,
            "picks": bool(data.get("picks")),
        }
        return StreamFilters(**values)


class ReportForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=Report.Reason.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label=_("Note for the facilitators"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional. What is wrong with it?"),
    )


class HideForm(forms.Form):
    reason = forms.CharField(
        label=_("Why hide it"),
        max_length=500,
        help_text=_("Kept with the hidden content, for other facilitators."),
    )
