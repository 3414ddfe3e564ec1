"""Dates through every door (issue 23 item 7): every date field of every form
(the site's and the admin's) and every date in a query or form parameter
takes any date Python can hold, from 0001-01-01 to 9999-12-31, and answers
with a clear form error or a clear 400 page that names the range, never a 500.

Before: 0001-01-01 gave a 500 at 2 of the 17 doors below (the timesheet's
`?week=`, the new-entry form) and 9999-12-31 at 8 (those two, the timed
entry, submitting a week, approving and rejecting a week, the stream's "To",
the admin's date drill-down); no door named a range, and 0001-01-01 was
saved as a time entry, a session day and a locked week. After: 0 of 17, at
those dates and at every date Hypothesis draws.

The doors were found by reading every form (`forms.DateField`,
`DateTimeField`, `SplitDateTimeField`, model forms' date columns) and every
`request.GET`/`request.POST` read of a date across members, feeds,
workshops and plnorg; the inventory test below keeps the form half complete
by itself: a new date field anywhere that is not range-checked fails it.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import pkgutil
import re

import pytest
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory
from django.urls import reverse
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core import dates
from tests.pages import text_of
from tests.workshops.clock.factories import TimeEntryFactory
from tests.workshops.factories import WorkshopFactory
from tests.workshops.test_views_manage import edit_data
from workshops.clock.models import ClockWeekLock, TimeEntry
from workshops.models import Workshop

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(300)]

SITE_RANGE = "between 1 Jan 2000 and 31 Dec 2100"
PUBLISHED_RANGE = "between 1 Jan 1970 and 31 Dec 2100"
FORM_ERROR = "Give a date {}."
PARAM_ERROR = "must be a date (YYYY-MM-DD) {}"
EDGES = [
    dt.date(1, 1, 1),
    dt.date(9999, 12, 31),
    dt.date(1969, 12, 31),
    dt.date(1970, 1, 1),
    dt.date(1999, 12, 31),
    dt.date(2000, 1, 1),
    dt.date(2100, 12, 31),
    dt.date(2101, 1, 1),
]
EXAMPLES_PER_DOOR = 25


def with_edges(test):
    for day in EDGES:
        test = example(day=day)(test)
    return test


def in_site_range(day: dt.date) -> bool:
    return dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31)


def in_published_range(day: dt.date) -> bool:
    return dt.date(1970, 1, 1) <= day <= dt.date(2100, 12, 31)


# --- Every date field of every form --------------------------------------------------------

OUR_PACKAGES = ("core", "members", "feeds", "workshops", "plnorg")


def _site_form_classes() -> list[type[forms.BaseForm]]:
    for package_name in OUR_PACKAGES:
        package = importlib.import_module(package_name)
        for module in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            if "forms" in module.name or "views" in module.name:
                importlib.import_module(module.name)
    found, todo = [], [forms.BaseForm]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in OUR_PACKAGES and getattr(cls, "base_fields", None) is not None:
            found.append(cls)
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def _admin_form_classes() -> list[tuple[str, type[forms.BaseForm]]]:
    request = RequestFactory().get("/admin/")
    request.user = type("Superuser", (), {"is_active": True, "is_staff": True, "is_superuser": True})()
    request.user.has_perm = lambda *args, **kwargs: True
    classes = []
    for model, model_admin in admin.site._registry.items():
        classes.append((f"admin {model._meta.label}", model_admin.get_form(request)))
        for inline in model_admin.get_inline_instances(request):
            classes.append(
                (f"admin {model._meta.label} inline {inline.model._meta.label}", inline.get_formset(request).form)
            )
    return classes


@functools.cache
def date_fields() -> list[tuple[str, forms.Field]]:
    pairs = [(f"{cls.__module__}.{cls.__qualname__}", cls) for cls in _site_form_classes()] + _admin_form_classes()
    return [
        (f"{label}.{name}", field)
        for label, cls in pairs
        for name, field in cls.base_fields.items()
        if isinstance(field, (forms.DateField, forms.DateTimeField, forms.SplitDateTimeField))
    ]


def test_every_date_field_of_every_form_is_range_checked():
    fields = date_fields()
    labels = {label for label, _field in fields}
    # The site's own date fields, and a sample of the admin's (allauth's too).
    assert {
        "workshops.clock.forms.TimeEntryForm.date",
        "workshops.clock.forms.ExportForm.start",
        "workshops.clock.forms.ExportForm.end",
        "workshops.forms.SessionForm.day",
        "workshops.forms.WorkshopForm.registration_deadline",
        "feeds.forms.stream.StreamFilterForm.since",
        "feeds.forms.stream.StreamFilterForm.until",
        "admin clock.ClockWeekLock.week_start",
        "admin workshops.Workshop.registration_deadline",
        "admin workshops.Workshop inline workshops.WorkshopSession.starts_at",
        "admin mfa.Authenticator.last_used_at",
    } <= labels
    assert [label for label, field in fields if not isinstance(field, dates.BOUNDED_FIELDS)] == []
    ranges = {label: field.dates for label, field in fields}
    published = {label for label, found in ranges.items() if found == dates.PUBLISHED_DATES}
    assert {label for label, found in ranges.items() if found == dates.DATES} | published == labels
    assert {label for label in published if not label.startswith("admin ")} == {
        "feeds.forms.stream.StreamFilterForm.since",
        "feeds.forms.stream.StreamFilterForm.until",
    }


def _typed(field: forms.Field, day: dt.date):
    if isinstance(field, forms.SplitDateTimeField):
        return [day.isoformat(), "10:00"]
    if isinstance(field, forms.DateTimeField):
        return f"{day.isoformat()}T10:00"
    return day.isoformat()


@settings(max_examples=60)
@given(day=st.dates())
@with_edges
def test_every_date_field_takes_its_range_and_names_it_outside(day):
    for label, field in date_fields():
        inside = in_published_range(day) if field.dates == dates.PUBLISHED_DATES else in_site_range(day)
        text = PUBLISHED_RANGE if field.dates == dates.PUBLISHED_DATES else SITE_RANGE
        if inside:
            value = field.clean(_typed(field, day))
            assert (
                label,
                value if isinstance(value, dt.date) and not isinstance(value, dt.datetime) else value.date(),
            ) == (
                label,
                day,
            )
        else:
            with pytest.raises(ValidationError) as refused:
                field.clean(_typed(field, day))
            assert (label, refused.value.messages) == (label, [FORM_ERROR.format(text)])


def _input(page: str, name: str) -> str:
    return re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)


def test_the_browsers_date_pickers_get_the_range(client_as):
    page = client_as("employee").get(reverse("workshops:clock")).content.decode()
    assert 'min="2000-01-01"' in _input(page, "date") and 'max="2100-12-31"' in _input(page, "date")
    stream = client_as("employee").get(reverse("feeds:stream")).content.decode()
    for name in ("since", "until"):
        assert 'min="1970-01-01"' in _input(stream, name) and 'max="2100-12-31"' in _input(stream, name)


# --- Every door a date comes through ---------------------------------------------------------


@pytest.fixture
def doors(persona_user):
    """(persona, request) for each door; the request is (method, path, data) for a day."""
    employee, manager, facilitator = (persona_user(p) for p in ("employee", "manager", "facilitator"))
    member = employee.member
    entry = TimeEntryFactory(member=member, date=dt.date(2021, 6, 8))
    workshop = WorkshopFactory(facilitators=[facilitator], sessions__starts_in=dt.timedelta(days=14))

    def export(name):
        return lambda d: ("get", reverse(name) + f"?start={d}&end={d}", None)

    return {
        "timesheet ?week=": ("employee", lambda d: ("get", reverse("workshops:clock") + f"?week={d}", None)),
        "submit a week": ("employee", lambda d: ("post", reverse("workshops:clock_submit"), {"week": d})),
        "new entry (duration)": (
            "employee",
            lambda d: ("post", reverse("workshops:clock_entry_new"), {"date": d, "duration": "30", "activity": "seek"}),
        ),
        "new entry (start and end, saved)": (
            "employee",
            lambda d: (
                "post",
                reverse("workshops:clock_entry_new"),
                {"date": d, "start": "23:00", "end": "23:30", "activity": "seek", "confirmed": "30"},
            ),
        ),
        "edit an entry": (
            "employee",
            lambda d: (
                "post",
                reverse("workshops:clock_entry", args=[entry.pk]),
                {
                    "date": d,
                    "duration": "30",
                    "activity": "seek",
                    "version": TimeEntry.objects.get(pk=entry.pk).version,
                },
            ),
        ),
        "export page": ("manager", lambda d: ("get", reverse("workshops:clock_export") + f"?start={d}&end={d}", None)),
        "export CSV": ("manager", export("workshops:clock_export_csv")),
        "export spreadsheet": ("manager", export("workshops:clock_export_xlsx")),
        "export summary": ("manager", export("workshops:clock_export_summary")),
        "approve a week": (
            "manager",
            lambda d: ("post", reverse("workshops:approvals"), {"approve_week": f"{member.pk}:{d}"}),
        ),
        "reject a week": (
            "manager",
            lambda d: (
                "post",
                reverse("workshops:approvals"),
                {"reject_week": f"{member.pk}:{d}", f"reason_week_{member.pk}_{d}": "Say which posts"},
            ),
        ),
        "stream from": ("employee", lambda d: ("get", reverse("feeds:stream") + f"?since={d}", None)),
        "stream to": ("employee", lambda d: ("get", reverse("feeds:stream") + f"?until={d}", None)),
        "workshop registration deadline": (
            "facilitator",
            lambda d: (
                "post",
                reverse("workshops:edit", args=[workshop.pk]),
                edit_data(Workshop.objects.get(pk=workshop.pk), registration_deadline=f"{d}T10:00"),
            ),
        ),
        "workshop session day": (
            "facilitator",
            lambda d: (
                "post",
                reverse("workshops:edit", args=[workshop.pk]),
                edit_data(Workshop.objects.get(pk=workshop.pk), **{"sessions-0-day": d}),
            ),
        ),
        "admin: lock a week": (
            "admin",
            lambda d: ("post", reverse("admin:clock_clockweeklock_add"), {"member": member.pk, "week_start": d}),
        ),
        "admin: audit log by day": (
            "admin",
            lambda d: (
                "get",
                reverse("admin:members_auditevent_changelist")
                + f"?created_at__year={d.year}&created_at__month={d.month}&created_at__day={d.day}",
                None,
            ),
        ),
    }


# door: how it answers outside its range ("form": the page again with the
# field's error; "param": a 400 page), and its range.
DOORS = {
    "timesheet ?week=": ("param", "week", SITE_RANGE),
    "submit a week": ("param", "week", SITE_RANGE),
    "new entry (duration)": ("form", "", SITE_RANGE),
    "new entry (start and end, saved)": ("form", "", SITE_RANGE),
    "edit an entry": ("form", "", SITE_RANGE),
    "export page": ("form", "", SITE_RANGE),
    "export CSV": ("export", "", SITE_RANGE),
    "export spreadsheet": ("export", "", SITE_RANGE),
    "export summary": ("export", "", SITE_RANGE),
    "approve a week": ("param", "week", SITE_RANGE),
    "reject a week": ("param", "week", SITE_RANGE),
    "stream from": ("form", "", PUBLISHED_RANGE),
    "stream to": ("form", "", PUBLISHED_RANGE),
    "workshop registration deadline": ("form", "", SITE_RANGE),
    "workshop session day": ("form", "", SITE_RANGE),
    "admin: lock a week": ("form", "", PUBLISHED_RANGE),
    "admin: audit log by day": ("param", "date", PUBLISHED_RANGE),
}


@pytest.mark.parametrize("door", list(DOORS))
def test_every_door_answers_every_date_clearly(door, doors, persona_user):
    persona, build = doors[door]
    answer, name, text = DOORS[door]
    client = Client()
    client.force_login(persona_user(persona))
    inside = in_published_range if text == PUBLISHED_RANGE else in_site_range
    form_error = FORM_ERROR.format(text)
    refused = {
        "form": form_error,
        "param": f"The {name} {PARAM_ERROR.format(text)}",
        "export": f"This export cannot be made: {form_error}",
    }[answer]

    @settings(max_examples=EXAMPLES_PER_DOOR)
    @given(day=st.dates())
    @with_edges
    def knock(day):
        method, path, data = build(day)
        # The test client raises what the view raised: a 500 fails here.
        response = getattr(client, method)(path, data) if data is not None else client.get(path)
        if inside(day):
            assert response.status_code in (200, 302), (day, response.status_code)
            if response.get("Content-Type", "").startswith("text/html"):
                assert "must be a date (YYYY-MM-DD)" not in text_of(response) and form_error not in text_of(response)
        else:
            expected_status = 200 if answer == "form" else 400
            assert (day, response.status_code) == (day, expected_status)
            assert refused in text_of(response), (day, text_of(response)[:600])

    knock()


def test_nothing_out_of_range_was_saved_through_any_door(doors, persona_user):
    """The doors that write (a timed entry saved at once, a session moved, a
    week locked in the admin) kept nothing from year 1 or 9999."""
    for door in ("new entry (start and end, saved)", "workshop session day", "admin: lock a week"):
        persona, build = doors[door]
        client = Client()
        client.force_login(persona_user(persona))
        for day in (dt.date(1, 1, 1), dt.date(9999, 12, 31)):
            method, path, data = build(day)
            getattr(client, method)(path, data)
    assert TimeEntry.objects.filter(date__year__in=[1, 9999]).count() == 0
    assert ClockWeekLock.objects.filter(week_start__year__in=[1, 9999]).count() == 0
    assert Workshop.objects.filter(sessions__starts_at__year__in=[1, 9999]).count() == 0
