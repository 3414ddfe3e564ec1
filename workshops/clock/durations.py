"""The duration grammar people type on the clock.

A bare whole number is minutes ("90"). Hours need a unit or a colon:
"1.5h", "1h30", "1h 30m", "1:30", "90m", "2 hours", "45 min" all work.
Anything else ("abc", "-5", "1.5", "25h") is refused with an example.
Durations are whole minutes, more than zero and at most 12 hours.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_MINUTES = 12 * 60

_HOURS = r"(?:h|hr|hrs|hour|hours)"
_MINUTES = r"(?:m|min|mins|minute|minutes)"
_PATTERNS = [
    ("minutes", re.compile(r"^(\d{1,4})$")),
    ("minutes", re.compile(rf"^(\d{{1,4}})\s*{_MINUTES}$")),
    ("hours", re.compile(rf"^(\d{{1,2}}(?:[.,]\d{{1,2}})?)\s*{_HOURS}$")),
    ("hours_minutes", re.compile(rf"^(\d{{1,2}})\s*{_HOURS}\s*(\d{{1,2}})\s*(?:{_MINUTES})?$")),
    ("colon", re.compile(r"^(\d{1,2}):([0-5]\d)$")),
]


def _refuse(text: str) -> ValidationError:
    return ValidationError(
        _("“%(text)s” is not a duration we understand. Try 90 (minutes), 1h30, 1:30 or 1.5h.") % {"text": text},
        code="invalid",
    )


def parse_duration(text: str) -> int:
    """Minutes for a typed duration, or a ValidationError with an example."""
    value = " ".join((text or "").strip().lower().split())
    if not value:
        raise ValidationError(_("Enter a duration, for example 90 (minutes) or 1h30."), code="required")
    minutes = None
    for kind, pattern in _PATTERNS:
        match = pattern.match(value)
        if not match:
            continue
        if kind == "minutes":
            minutes = int(match.group(1))
        elif kind == "hours":
            try:
                hours = Decimal(match.group(1).replace(",", "."))
            except InvalidOperation as exc:
                raise _refuse(text) from exc
            exact = hours * 60
            if exact != exact.to_integral_value():
                raise ValidationError(
                    _("%(text)s is not a whole number of minutes. Try 1h20 instead.") % {"text": text}, code="invalid"
                )
            minutes = int(exact)
        elif kind == "hours_minutes":
            hours, mins = int(match.group(1)), int(match.group(2))
            if mins >= 60:
                raise _refuse(text)
            minutes = hours * 60 + mins
        elif kind == "colon":
            minutes = int(match.group(1)) * 60 + int(match.group(2))
        break
    if minutes is None:
        raise _refuse(text)
    if minutes <= 0:
        raise ValidationError(_("A duration must be more than zero minutes."), code="zero")
    if minutes > MAX_MINUTES:
        raise ValidationError(
            _("%(text)s is more than 12 hours; split it into separate entries.") % {"text": text}, code="too_long"
        )
    return minutes


def format_minutes(minutes: int) -> str:
    """'1 h 30 min', '45 min', '2 h'."""
    hours, mins = divmod(int(minutes), 60)
    if hours and mins:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": mins}
    if hours:
        return _("%(h)d h") % {"h": hours}
    return _("%(m)d min") % {"m": mins}
