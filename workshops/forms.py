"""Forms: they parse and validate input; services do the work."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core import dates
from members.models import FACILITATORS, User

from .models import Attendance, Feedback, Resource, Topic, Workshop, WorkshopSession
from .services.workshop import SessionInput, online_url_check, wall_time_to_utc

TIME_ZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones()) if "/" in tz or tz == "UTC"]


class WorkshopForm(forms.ModelForm):
    allow_overbooking = forms.BooleanField(
        label=_("Overbook on purpose"),
        required=False,
        help_text=_("Keep everyone registered even if the capacity is now lower than the number registered."),
    )

    class Meta:
        model = Workshop
        fields = [
            "title",
            "description",
            "topics",
            "audience",
            "capacity",
            "registration_deadline",
            "approval_required",
            "prework_note",
            "facilitators",
            "resources",
        ]
        field_classes = {"registration_deadline": dates.DateTimeField}
        widgets = {
            "topics": forms.CheckboxSelectMultiple,
            "resources": forms.CheckboxSelectMultiple,
            "facilitators": forms.CheckboxSelectMultiple,
            "registration_deadline": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "description": forms.Textarea(attrs={"rows": 8}),
            "prework_note": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facilitators"].queryset = (
            User.objects.filter(Q(groups__name=FACILITATORS) | Q(is_staff=True), is_active=True)
            .distinct()
            .order_by("email")
        )
        self.fields["facilitators"].required = False
        self.fields["facilitators"].help_text = _("You are always one of them when you leave this empty.")
        self.fields["capacity"].min_value = 1
        self.fields["capacity"].widget.attrs["min"] = 1


class SessionForm(forms.Form):
    session_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    day = dates.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(label=_("Starts"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    end = forms.TimeField(label=_("Ends"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=TIME_ZONE_CHOICES, initial="UTC")
    mode = forms.ChoiceField(label=_("Where"), choices=WorkshopSession.Mode.choices)
    room = forms.CharField(label=_("Room"), required=False, max_length=200)
    online_url = forms.CharField(
        label=_("Online link"),
        required=False,
        max_length=1000,
        help_text=_("http(s) only; shown to registered people."),
    )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        day, tz = data["day"], data["time_zone"]
        try:
            data["starts_at"] = wall_time_to_utc(day=day, at=data["start"], time_zone=tz)
            data["ends_at"] = wall_time_to_utc(day=day, at=data["end"], time_zone=tz)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc
        if data["ends_at"] <= data["starts_at"]:
            raise ValidationError(_("The session ends before it starts."))
        if data["mode"] == WorkshopSession.Mode.ONLINE and not data.get("online_url"):
            self.add_error("online_url", _("An online session needs its link."))
        if data.get("online_url"):
            try:
                online_url_check(data["online_url"])
            except ValidationError as exc:
                self.add_error("online_url", exc)
        return data

    def as_input(self) -> SessionInput:
        data = self.cleaned_data
        return SessionInput(
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            time_zone=data["time_zone"],
            mode=data["mode"],
            room=data.get("room", ""),
            online_url=data.get("online_url", ""),
            session_id=data.get("session_id"),
        )


SessionFormSet = forms.formset_factory(SessionForm, extra=1, can_delete=True, max_num=20, validate_max=True)


def session_initial(workshop: Workshop) -> list[dict]:
    initial = []
    for session in workshop.session_list:
        tz = session.tzinfo
        start, end = session.starts_at.astimezone(tz), session.ends_at.astimezone(tz)
        initial.append(
            {
                "session_id": session.pk,
                "day": start.date(),
                "start": start.time(),
                "end": end.time(),
                "time_zone": session.time_zone,
                "mode": session.mode,
                "room": session.room,
                "online_url": session.online_url,
            }
        )
    return initial


class WorkshopFilterForm(forms.Form):
    topic = forms.ModelChoiceField(
        label=_("Topic"), queryset=Topic.objects.all(), required=False, to_field_name="slug", empty_label=_("Any topic")
    )
    mode = forms.ChoiceField(
        label=_("Where"), required=False, choices=[("", _("Online or in person")), *WorkshopSession.Mode.choices]
    )
    seats_left = forms.BooleanField(label=_("Only with seats left"), required=False)


class RegisterOtherForm(forms.Form):
    email = forms.EmailField(label=_("Email of the person to register"))
    overbook = forms.BooleanField(
        label=_("Overbook on purpose"), required=False, help_text=_("Give a seat even when the workshop is full.")
    )

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        user = User.objects.filter(email=email, is_active=True).select_related("member").first()
        if user is None or not hasattr(user, "member"):
            raise ValidationError(_("Nobody active in the organization has this email address."))
        self.cleaned_data["member"] = user.member
        return email


class AttendanceForm(forms.Form):
    """One select and one minutes field per person holding a seat."""

    def __init__(self, *args, registrations, session, initial_marks, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for registration in registrations:
            mark = initial_marks.get(registration.pk)
            status_name, minutes_name = f"status_{registration.pk}", f"minutes_{registration.pk}"
            self.fields[status_name] = forms.ChoiceField(
                label=_("Attendance of %(name)s") % {"name": registration.member.name},
                choices=Attendance.Status.choices,
                initial=mark.status if mark else Attendance.Status.ATTENDED,
            )
            self.fields[minutes_name] = forms.IntegerField(
                label=_("Minutes attended by %(name)s (partial only)") % {"name": registration.member.name},
                required=False,
                min_value=1,
                max_value=session.duration_minutes,
                initial=mark.minutes if mark and mark.status == Attendance.Status.PARTIAL else None,
            )
            self.rows.append((registration, self[status_name], self[minutes_name]))

    def clean(self):
        data = super().clean()
        for registration, status_field, minutes_field in self.rows:
            if data.get(status_field.name) == Attendance.Status.PARTIAL and not data.get(minutes_field.name):
                self.add_error(
                    minutes_field.name, _("Give the minutes %(name)s attended.") % {"name": registration.member.name}
                )
        return data

    def marks(self) -> dict[int, tuple[str, int | None]]:
        return {
            registration.pk: (self.cleaned_data[status.name], self.cleaned_data.get(minutes.name))
            for registration, status, minutes in self.rows
        }


class FeedbackForm(forms.ModelForm):
    rating = forms.TypedChoiceField(
        label=_("How useful was this workshop? (1 = not at all, 5 = very)"),
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
    )

    class Meta:
        model = Feedback
        fields = ["rating", "next_step", "comment"]
        widgets = {"comment": forms.Textarea(attrs={"rows": 4})}


class MaterialForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    url = forms.CharField(label=_("Link"), required=False, max_length=1000)
    file = forms.FileField(
        label=_("Or a file"),
        required=False,
        help_text=_("PDF, PNG, JPEG, text or Markdown, or an office document."),
    )

    def clean(self):
        data = super().clean()
        if bool(data.get("url")) == bool(data.get("file")):
            raise ValidationError(_("Give either a link or a file."))
        return data


class ResourceForm(forms.ModelForm):
    # Plain text, as on MaterialForm: the service's online_url_check is the one
    # rule for stored links. The model's URLField would turn "example.org/x" or
    # "//example.org/x" into an http:// link instead of refusing it.
    url = forms.CharField(label=_("Link"), required=False, max_length=1000)
    file = forms.FileField(
        label=_("Or a file"), required=False, help_text=_("PDF, PNG, JPEG, text or Markdown, or an office document.")
    )

    class Meta:
        model = Resource
        fields = ["title", "kind", "description", "url", "topic", "audience"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def clean(self):
        data = super().clean()
        if bool(data.get("url")) == bool(data.get("file")):
            raise ValidationError(_("Give either a link or a file."))
        return data


class ResourceSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    topic = forms.ModelChoiceField(
        label=_("Topic"), queryset=Topic.objects.all(), required=False, to_field_name="slug", empty_label=_("Any topic")
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("Any kind")), *Resource.Kind.choices])
