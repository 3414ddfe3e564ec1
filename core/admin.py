"""Admin base classes every app's admin uses (core itself registers no model)."""

from django.contrib import admin


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
