"""Admin base classes every app's admin uses, and the admin's date range (core
itself registers no model)."""

import datetime as dt

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext as _

from . import dates


class RevokeOnlyAdmin(admin.ModelAdmin):
    """Browse and delete only: rows made by the site's workflows (invitations,
    feed tokens), where deleting one is how an admin revokes it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ViewOnlyAdmin(RevokeOnlyAdmin):
    """Browse only: no adding, changing or deleting in the admin (rows that
    workflows or tasks write, and records that must not change)."""

    def has_delete_permission(self, request, obj=None):
        return False


class DateHierarchyBounded:
    """For a ModelAdmin with `date_hierarchy`: a drill-down date outside
    `dates.PUBLISHED_DATES` (`?created_at__year=9999&…`) is a 400 that names
    the range. Django adds a day, a month or a year to the date asked for, and
    at 9999-12-31 that overflowed into a 500. Dates that do not exist are left
    to Django (it answers them with its "invalid filter" notice)."""

    def changelist_view(self, request, extra_context=None):
        if self.date_hierarchy:
            year, month, day = (request.GET.get(f"{self.date_hierarchy}__{part}") for part in ("year", "month", "day"))
            if year:
                try:
                    asked = dt.date(int(year), int(month or 1), int(day or 1))
                except (ValueError, OverflowError):
                    asked = None
                if asked is not None and asked not in dates.PUBLISHED_DATES:
                    value = "-".join(part for part in (year, month, day) if part)
                    raise dates.InputRefused(dates.PUBLISHED_DATES.param_message(_("date"), value))
        return super().changelist_view(request, extra_context)


def _bounded(overrides: dict) -> dict:
    """Form field overrides (a ModelAdmin's, merged with Django's admin
    defaults, or an inline class's own) with the range-checked date fields."""
    bound = {"dates": dates.PUBLISHED_DATES}
    overrides.setdefault(models.DateField, {}).update(form_class=dates.DateField, **bound)
    overrides.setdefault(models.DateTimeField, {}).update(form_class=dates.SplitDateTimeField, **bound)
    return overrides


def admin_date_fields_bound(site: admin.AdminSite = admin.site) -> None:
    """Hold every date field of every admin form (ours and the third-party
    apps') to `dates.PUBLISHED_DATES`: year 1 or 9999 saved a date the site
    cannot add a day to. Runs once every admin module is loaded
    (PlnorgConfig.ready); inline admins are made per request, so their class
    gets the overrides."""
    for model_admin in site._registry.values():
        _bounded(model_admin.formfield_overrides)
        for inline in model_admin.inlines:
            inline.formfield_overrides = _bounded(dict(inline.formfield_overrides))
