"""Formatting many values of one page the same way, at the cost of a few.

``DateFormatter(format)`` gives exactly what ``django.utils.dateformat.format``
gives for each value (a test compares them for every format character over
thousands of dates), for rows built in Python (the stream's 50 entries, the
workshops list). ``dateformat.format`` splits the format string with a
regular expression and runs every character's method (month names and
"a.m."/"p.m." through gettext) for every value; a page of rows repeats the
same few dates and times, so here the format is split once and each
character's text is remembered by the part of the value it depends on (the
date for "N j, Y", the hour and minute for "P"). Time-zone characters
("e", "I", "O", "T", "Z", "U", "c", "r") are never remembered.

One formatter serves one page: it remembers texts in the active language,
so make a new one per request.
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils.dateformat import DateFormat, re_escaped, re_formatchars

_BY_DATE = frozenset("bdDEFjlLmMnNStwWyYz")  # the value's date alone decides them
_BY_MINUTE = frozenset("aAfgGhHiP")  # its hour and minute
_BY_SECOND = frozenset("s")


class DateFormatter:
    """``dateformat.format(value, format_string)`` for many values."""

    def __init__(self, format_string: str) -> None:
        self._pieces: list[tuple[bool, str]] = []  # (is a format character, text)
        for i, piece in enumerate(re_formatchars.split(str(format_string))):
            if i % 2:
                self._pieces.append((True, piece))
            elif piece:
                self._pieces.append((False, re_escaped.sub(r"\1", piece)))
        self._memo: dict[tuple, str] = {}

    def __call__(self, value: date | datetime) -> str:
        texts = []
        formatter = None
        for is_character, piece in self._pieces:
            if not is_character:
                texts.append(piece)
                continue
            key = self._key(piece, value)
            text = self._memo.get(key) if key is not None else None
            if text is None:
                if formatter is None:
                    formatter = DateFormat(value)
                # format() checks that a date is not given time characters;
                # a datetime may have any, so its method is called directly.
                text = str(getattr(formatter, piece)()) if type(value) is datetime else formatter.format(piece)
                if key is not None:
                    self._memo[key] = text
            texts.append(text)
        return "".join(texts)

    @staticmethod
    def _key(piece: str, value: date | datetime) -> tuple | None:
        kind = type(value)
        if piece in _BY_DATE:
            return (piece, kind, value.year, value.month, value.day)
        if kind is not datetime:
            return None  # time characters on a date: DateFormat raises, every time
        if piece in _BY_MINUTE:
            return (piece, value.hour, value.minute)
        if piece in _BY_SECOND:
            return (piece, value.second)
        return None
