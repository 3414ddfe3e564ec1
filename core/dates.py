"""The dates the site accepts, typed into a form or given in an address.

Python's dates run from year 1 to 9999 and overflow as soon as a page adds a
week or moves a time to another zone, so `0001-01-01` or `9999-12-31` in a
form or in `?week=` used to end in a 500 (or, worse, in a time entry dated in
year 1). Every date field of the site's forms and every date in a query
parameter is held to a range instead, with a message that names the range:

* `DATES` (2000 to 2100): what people record and plan: time on the clock,
  workshops and their sessions, exports, approvals;
* `PUBLISHED_DATES` (1970 to 2100): when things were published, for the
  stream's filters and the admin's date fields (feeds carry old posts).

Forms use the fields below (the browser's date picker gets the same min and
max); views read a date parameter with `date_param`, which raises
`InputRefused`: a 400 page that shows its message (`core.views.error_400`).
The admin's date fields and date drill-down are bounded in
`core.admin`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.core.exceptions import BadRequest, ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext as _

RANGE_ERROR = "date_out_of_range"


@dataclass(frozen=True)
class DateRange:
    earliest: dt.date
    latest: dt.date

    def __contains__(self, day: dt.date) -> bool:
        return self.earliest <= day <= self.latest

    def _ends(self) -> dict:
        return {"earliest": date_format(self.earliest, "j M Y"), "latest": date_format(self.latest, "j M Y")}

    def message(self) -> str:
        """For a form field."""
        return _("Give a date between %(earliest)s and %(latest)s.") % self._ends()

    def param_message(self, name: str, value: str) -> str:
        """For a query parameter (shown on the 400 page)."""
        return _("The %(name)s must be a date (YYYY-MM-DD) between %(earliest)s and %(latest)s, not “%(value)s”.") % {
            "name": name,
            "value": value[:40],
            **self._ends(),
        }


DATES = DateRange(dt.date(2000, 1, 1), dt.date(2100, 12, 31))
PUBLISHED_DATES = DateRange(dt.date(1970, 1, 1), dt.date(2100, 12, 31))


class InputRefused(BadRequest):
    """Input in the request that the site cannot use (a date out of range,
    say): a 400 page that shows `message`, which says what to change."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def date_param(raw: str | None, *, name: str, dates: DateRange = DATES) -> dt.date | None:
    """The ISO date (YYYY-MM-DD) in a query or form parameter, None when it
    is absent or empty; anything else outside `dates` raises `InputRefused`."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or day not in dates:
        raise InputRefused(dates.param_message(name, raw))
    return day


def _picker_attrs(widget: forms.Widget, dates: DateRange) -> dict:
    """min and max for the browser's date (or date and time) picker."""
    input_type = getattr(widget, "input_type", "")
    if input_type == "date":
        return {"min": dates.earliest.isoformat(), "max": dates.latest.isoformat()}
    if input_type == "datetime-local":
        return {"min": f"{dates.earliest.isoformat()}T00:00", "max": f"{dates.latest.isoformat()}T23:59"}
    return {}


class _Bounded:
    """The range check shared by the fields below."""

    def __init__(self, *args, dates: DateRange = DATES, **kwargs):
        self.dates = dates
        super().__init__(*args, **kwargs)

    def widget_attrs(self, widget):
        return {**super().widget_attrs(widget), **_picker_attrs(widget, self.dates)}

    def validate(self, value):
        super().validate(value)
        day = value.date() if isinstance(value, dt.datetime) else value
        if day is not None and day not in self.dates:
            raise ValidationError(self.dates.message(), code=RANGE_ERROR)


class DateField(_Bounded, forms.DateField):
    """A date within `dates` (DATES unless told)."""


class DateTimeField(_Bounded, forms.DateTimeField):
    """A date and time whose date (where it was typed) is within `dates`."""


class SplitDateTimeField(_Bounded, forms.SplitDateTimeField):
    """The admin's date-and-time pair, held to `dates` like the others."""


BOUNDED_FIELDS = (DateField, DateTimeField, SplitDateTimeField)
