"""Forms for the clock: typed entries (with the duration grammar), reasons, exports."""

from __future__ import annotations

import datetime as dt
import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core import dates

from .durations import format_minutes, parse_duration
from .models import ACTIVITY_DESCRIPTIONS, Activity, TimeEntry


def activity_choices():
    return [(value, f"{label} — {ACTIVITY_DESCRIPTIONS[value]}") for value, label in Activity.choices]


class TimeEntryForm(forms.Form):
    """A duration typed with the grammar, or a start and an end. The first
    submit echoes the parsed value ("= 1 h 30 min"); the second saves."""

    date = dates.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    duration = forms.CharField(
        label=_("Duration"),
        required=False,
        max_length=20,
        help_text=_("Minutes (90) or hours: 1h30, 1:30, 1.5h. Or give a start and an end instead."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text", "autofocus": True}),
    )
    start = forms.TimeField(label=_("Start"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(label=_("End"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    activity = forms.ChoiceField(label=_("Activity"), choices=activity_choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    confirmed = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, member=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.member = member
        if not self.is_bound and not self.initial.get("idempotency_key"):
            self.initial["idempotency_key"] = uuid.uuid4()

    def clean(self):
        data = super().clean()
        day, start, end = data.get("date"), data.get("start"), data.get("end")
        data["started_at"] = data["ended_at"] = None
        data["minutes"] = None
        if start or end:
            if not (start and end):
                raise ValidationError(_("Give both a start and an end, or a duration."))
            if day is None:
                return data
            tz = self.member.tzinfo
            started = dt.datetime.combine(day, start).replace(tzinfo=tz)
            ended = dt.datetime.combine(day, end).replace(tzinfo=tz)
            if ended <= started:
                raise ValidationError(_("The end must be after the start."))
            data["started_at"], data["ended_at"] = started, ended
            data["minutes"] = int((ended - started).total_seconds() // 60)
        else:
            try:
                data["minutes"] = parse_duration(data.get("duration", ""))
            except ValidationError as exc:
                self.add_error("duration", exc)
        return data

    @property
    def echo(self) -> str:
        minutes = self.cleaned_data.get("minutes") if hasattr(self, "cleaned_data") else None
        return f"= {format_minutes(minutes)}" if minutes else ""


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ExportForm(forms.Form):
    start = dates.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = dates.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args, teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", _("All teams I can see"))] + [(t.pk, t.name) for t in teams]
        self.fields["status"].choices = [("", _("Any status"))] + list(TimeEntry.Status.choices)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError(_("The end must not be before the start."))
        if data.get("start") and data.get("end") and (data["end"] - data["start"]).days > 366:
            raise ValidationError(_("Export at most one year at a time."))
        return data
