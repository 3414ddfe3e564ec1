"""URLs for a page of objects: reverse() once, then the id put in.

A page that links 50 entries or 500 time entries to their own pages spent
measurable time in reverse(), the same pattern resolved again for each id."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

ID_SLOT = 987654321  # an id no page would show, replaced by each real one


def reverse_for_ids(viewname: str, *, kwarg: str | None = None) -> Callable[[int], str]:
    """A function from an object's id to ``reverse(viewname)`` for it, the id
    as ``kwarg`` (or the one positional argument)."""
    url = reverse(viewname, kwargs={kwarg: ID_SLOT}) if kwarg else reverse(viewname, args=[ID_SLOT])
    head, tail = url.split(str(ID_SLOT))
    return lambda pk: f"{head}{pk}{tail}"
