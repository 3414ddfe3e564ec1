import pytest
from django.core.exceptions import ValidationError

from workshops.clock.durations import format_minutes, parse_duration


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [
        ("90", 90),
        ("90m", 90),
        ("90 min", 90),
        ("1.5h", 90),
        ("1,5h", 90),
        ("1h30", 90),
        ("1h 30m", 90),
        ("1 h 30 min", 90),
        ("1:30", 90),
        ("01:30", 90),
        ("2 hours", 120),
        ("45 minutes", 45),
        ("0.25h", 15),
        ("12h", 720),
        ("  1H30  ", 90),
    ],
)
def test_accepted_durations(typed, minutes):
    assert parse_duration(typed) == minutes


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abc", "“abc” is not a duration we understand. Try 90 (minutes), 1h30, 1:30 or 1.5h."),
        ("-5", "“-5” is not a duration we understand. Try 90 (minutes), 1h30, 1:30 or 1.5h."),
        ("1.5", "“1.5” is not a duration we understand. Try 90 (minutes), 1h30, 1:30 or 1.5h."),
        ("25h", "25h is more than 12 hours; split it into separate entries."),
        ("721", "721 is more than 12 hours; split it into separate entries."),
        ("0", "A duration must be more than zero minutes."),
        ("0:00", "A duration must be more than zero minutes."),
        ("1h75", "“1h75” is not a duration we understand. Try 90 (minutes), 1h30, 1:30 or 1.5h."),
        ("1:75", "“1:75” is not a duration we understand. Try 90 (minutes), 1h30, 1:30 or 1.5h."),
        ("0.33h", "0.33h is not a whole number of minutes. Try 1h20 instead."),
        ("", "Enter a duration, for example 90 (minutes) or 1h30."),
    ],
)
def test_refused_durations(typed, message):
    with pytest.raises(ValidationError) as info:
        parse_duration(typed)
    assert info.value.messages == [message]


@pytest.mark.parametrize(("minutes", "text"), [(90, "1 h 30 min"), (45, "45 min"), (120, "2 h"), (720, "12 h")])
def test_format_minutes(minutes, text):
    assert format_minutes(minutes) == text
