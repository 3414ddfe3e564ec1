"""core.formatting.DateFormatter gives what django.utils.dateformat.format gives."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import dateformat, translation
from django.utils.formats import get_format
from hypothesis import given, settings
from hypothesis import strategies as st

from core.formatting import DateFormatter

EVERY_CHARACTER = "aAbcdDeEfFgGhHiIjlLmMnNoOPrsStTuUwWyYzZ"
DATE_CHARACTERS = "bdDEFjlLmMnNoStwWyYzU"
FORMATS = [
    *EVERY_CHARACTER,
    EVERY_CHARACTER,
    "N j, Y, P",  # English DATETIME_FORMAT
    "D j M Y, H:i",
    r"\T\o\d\a\y \i\s l, jS \of F",  # escaped characters stay literal
    "j.n.Y G:i:s u e",
]
ZONES = [UTC, ZoneInfo("Europe/Lisbon"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")]

moments = st.builds(
    lambda naive, zone: naive.replace(tzinfo=UTC).astimezone(zone),
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)),
    st.sampled_from(ZONES),
)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(moments, min_size=1, max_size=60), fmt=st.sampled_from(FORMATS))
def test_many_values_format_as_dateformat_formats_each(values, fmt):
    formatter = DateFormatter(fmt)

    assert [formatter(v) for v in values] == [dateformat.format(v, fmt) for v in values]


def test_a_page_of_close_times_around_noon_midnight_and_a_dst_change():
    lisbon = ZoneInfo("Europe/Lisbon")
    start = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)  # clocks go forward in Lisbon at 01:00 UTC on the 29th
    values = [(start + timedelta(minutes=7 * i)).astimezone(lisbon) for i in range(300)]
    values += [datetime(2026, 6, 1, 12, 0, tzinfo=lisbon), datetime(2026, 6, 1, 0, 0, tzinfo=lisbon)]

    for fmt in FORMATS:
        formatter = DateFormatter(fmt)
        assert [formatter(v) for v in values] == [dateformat.format(v, fmt) for v in values], fmt
    noon_midnight = DateFormatter("P")
    assert [noon_midnight(v) for v in values[-2:]] == ["noon", "midnight"]


@pytest.mark.parametrize("language", ["en", "pt", "de"])
def test_the_stream_format_in_each_language(language):
    values = [datetime(2026, month, 3, 9 + month, 4 * month, tzinfo=UTC) for month in range(1, 13)]
    with translation.override(language):
        fmt = get_format("DATETIME_FORMAT")
        formatter = DateFormatter(fmt)
        assert [formatter(v) for v in values] == [dateformat.format(v, fmt) for v in values]


def test_dates_take_date_characters_and_refuse_time_ones_as_dateformat_does():
    days = [date(2026, 12, 3) + timedelta(days=i) for i in range(40)]
    for character in DATE_CHARACTERS:
        formatter = DateFormatter(character)
        assert [formatter(d) for d in days] == [dateformat.format(d, character) for d in days], character

    with pytest.raises(TypeError):
        dateformat.format(days[0], "H")
    with pytest.raises(TypeError):
        DateFormatter("j H")(days[0])
