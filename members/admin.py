from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.admin import DateHierarchyBounded, RevokeOnlyAdmin
from core.spreadsheets import csv_writer

from . import audit
from .models import AuditEvent, Invitation, Member, OrganizationSettings, OutboundEmail, Team, User
from .outbox import email_mark_delivered, email_resend


def token_hint(token: str) -> str:
    """Enough of a secret token (invitation, feed or calendar URL) to tell two
    apart in the admin, never enough to use it."""
    return f"{token[:4]}…" if token else ""


def _user_roles_snapshot(user: User) -> dict:
    return {
        "groups": sorted(user.groups.values_list("name", flat=True)) if user.pk else [],
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "is_active": user.is_active,
    }


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "is_active", "is_staff", "date_joined", "last_login"]
    list_filter = ["is_active", "is_staff", "groups"]
    search_fields = ["email", "member__display_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Roles"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ("groups",)
    actions = ["reset_mfa"]

    def save_model(self, request, obj, form, change):
        request._audit_before = _user_roles_snapshot(User.objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user = form.instance
        user.__dict__.pop("_group_names", None)
        before = getattr(request, "_audit_before", None) or {
            "groups": [],
            "is_staff": False,
            "is_superuser": False,
            "is_active": True,
        }
        after = _user_roles_snapshot(user)
        for group in sorted(set(after["groups"]) - set(before["groups"])):
            audit.audit_record(action=audit.ROLE_GRANTED, obj=user, after={"group": group}, request=request)
        for group in sorted(set(before["groups"]) - set(after["groups"])):
            audit.audit_record(action=audit.ROLE_REVOKED, obj=user, before={"group": group}, request=request)
        if (before["is_staff"], before["is_superuser"]) != (after["is_staff"], after["is_superuser"]):
            audit.audit_record(
                action=audit.ADMIN_CHANGED,
                obj=user,
                before={"is_staff": before["is_staff"], "is_superuser": before["is_superuser"]},
                after={"is_staff": after["is_staff"], "is_superuser": after["is_superuser"]},
                request=request,
            )
        if before["is_active"] != after["is_active"]:
            action = audit.USER_REACTIVATED if after["is_active"] else audit.USER_DEACTIVATED
            audit.audit_record(
                action=action,
                obj=user,
                before={"is_active": before["is_active"]},
                after={"is_active": after["is_active"]},
                request=request,
            )

    @admin.action(description=_("Reset two-factor authentication (the user enrols again)"))
    def reset_mfa(self, request, queryset):
        from allauth.mfa.models import Authenticator

        for user in queryset:
            kinds = sorted(Authenticator.objects.filter(user=user).values_list("type", flat=True))
            Authenticator.objects.filter(user=user).delete()
            audit.audit_record(action=audit.MFA_RESET, obj=user, before={"authenticators": kinds}, request=request)
        messages.success(request, _("Two-factor authentication was reset for %(n)d user(s).") % {"n": queryset.count()})


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "manager", "parent"]
    search_fields = ["name"]
    autocomplete_fields = ["manager", "parent"]

    def save_model(self, request, obj, form, change):
        before = Team.objects.filter(pk=obj.pk).values_list("manager__email", flat=True).first() if change else None
        super().save_model(request, obj, form, change)
        after = obj.manager.email if obj.manager_id else None
        if before != after:
            audit.audit_record(
                action=audit.TEAM_MANAGER_CHANGED,
                obj=obj,
                before={"manager": before},
                after={"manager": after},
                request=request,
            )


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "team", "job_title", "digest", "sharing_paused"]
    list_filter = ["team", "digest", "sharing_paused", "introductions_opt_in"]
    search_fields = ["display_name", "user__email"]
    autocomplete_fields = ["user", "team"]


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    """The outbox. An "unknown" email was interrupted mid-send and may or may
    not have arrived (members/outbox.py): it is resent only by the action,
    after checking with the recipient or the mail server's log."""

    list_display = ["created_at", "to", "kind", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind"]
    search_fields = ["to", "subject", "idempotency_key"]
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]
    actions = ["resend", "mark_delivered"]

    @admin.action(description=_("Resend the selected unknown or failed emails (same Message-ID)"))
    def resend(self, request, queryset):
        emails = list(queryset)
        resent = sum(email_resend(email=email, request=request) for email in emails)
        if resent:
            messages.success(request, _("%(n)d email(s) will be sent again.") % {"n": resent})
        if skipped := len(emails) - resent:
            messages.warning(
                request,
                _("%(n)d email(s) were left as they are: only unknown or failed emails can be resent.")
                % {"n": skipped},
            )

    @admin.action(description=_("Mark the selected unknown emails as delivered (no resend)"))
    def mark_delivered(self, request, queryset):
        emails = list(queryset)
        marked = sum(email_mark_delivered(email=email, request=request) for email in emails)
        if marked:
            messages.success(request, _("%(n)d email(s) marked as delivered.") % {"n": marked})
        if skipped := len(emails) - marked:
            messages.warning(
                request, _("%(n)d email(s) were left as they are: only unknown emails can be marked.") % {"n": skipped}
            )


ANALYTICS_FIELDS = ["connectors_enabled", "introduction_suggestions_enabled", "network_figures_enabled"]


@admin.register(OrganizationSettings)
class OrganizationSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", *ANALYTICS_FIELDS, "updated_at"]

    def has_add_permission(self, request):
        return not OrganizationSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        old = OrganizationSettings.objects.filter(pk=1).first()
        super().save_model(request, obj, form, change)
        before_domains = old.signup_domains if old else ""
        if before_domains != obj.signup_domains:
            audit.audit_record(
                action=audit.SIGNUP_DOMAINS_CHANGED,
                obj=obj,
                before={"signup_domains": before_domains},
                after={"signup_domains": obj.signup_domains},
                request=request,
            )
        for field in ANALYTICS_FIELDS:
            was = getattr(old, field) if old else True
            now = getattr(obj, field)
            if was != now:
                audit.audit_record(
                    action=audit.ANALYTICS_SWITCH_CHANGED,
                    obj=obj,
                    before={field: was},
                    after={field: now},
                    request=request,
                )


class _Echo:
    def write(self, value):
        return value


@admin.register(AuditEvent)
class AuditEventAdmin(DateHierarchyBounded, admin.ModelAdmin):
    """Read-only: admins browse, filter and export; nobody edits or deletes."""

    list_display = ["created_at", "actor_email", "action", "object_type", "object_repr", "ip"]
    list_filter = ["action", "object_type", "created_at"]
    search_fields = ["actor_email", "object_repr", "object_id", "action"]
    date_hierarchy = "created_at"
    actions = ["export_csv"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description=_("Export the selected events as CSV"))
    def export_csv(self, request, queryset):
        audit.audit_record(action=audit.AUDIT_EXPORTED, after={"rows": queryset.count()}, request=request)
        return audit_csv_response(queryset)


def audit_csv_response(queryset) -> StreamingHttpResponse:
    writer = csv_writer(_Echo())
    header = ["created_at", "actor", "action", "object_type", "object_id", "object", "before", "after", "ip"]

    def rows():
        yield writer.writerow(header)
        for e in queryset.order_by("created_at", "id").iterator(chunk_size=1000):
            yield writer.writerow(
                [
                    e.created_at.isoformat(),
                    e.actor_email,
                    e.action,
                    e.object_type,
                    e.object_id,
                    e.object_repr,
                    "" if e.before is None else e.before,
                    "" if e.after is None else e.after,
                    e.ip or "",
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="plnorg-audit-log.csv"'
    return response


class InvitationStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("pending", _("Pending")), ("accepted", _("Accepted")), ("expired", _("Expired"))]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        match self.value():
            case "pending":
                return queryset.pending()
            case "accepted":
                return queryset.filter(accepted_at__isnull=False)
            case "expired":
                return queryset.filter(accepted_at__isnull=True, expires_at__lte=timezone.now())
        return queryset


@admin.register(Invitation)
class InvitationAdmin(RevokeOnlyAdmin):
    """Invitations are sent from the site's invitation page (which emails the
    link); here they are browsed, and deleting one revokes its link. The token
    is the link's secret: only its first characters are shown."""

    list_display = ["email", "display_name", "team", "invited_by", "created_at", "expires_at", "accepted_at"]
    list_filter = [InvitationStateFilter, "team"]
    search_fields = ["email", "display_name"]
    list_select_related = ["team", "invited_by"]
    fields = [
        "email",
        "display_name",
        "team",
        "token_start",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_by",
        "accepted_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("token"))
    def token_start(self, invitation: Invitation) -> str:
        return token_hint(invitation.token)


# --- SSO configuration changes are audited --------------------------------------
from allauth.socialaccount.admin import SocialAppAdmin as _BaseSocialAppAdmin  # noqa: E402
from allauth.socialaccount.models import SocialApp  # noqa: E402


def _sso_snapshot(app: SocialApp | None) -> dict | None:
    if app is None:
        return None
    # Never the secret: only whether it changed.
    return {
        "provider": app.provider,
        "provider_id": app.provider_id,
        "name": app.name,
        "client_id": app.client_id,
        "settings": app.settings,
    }


admin.site.unregister(SocialApp)


@admin.register(SocialApp)
class SocialAppAdmin(_BaseSocialAppAdmin):
    def save_model(self, request, obj, form, change):
        old = SocialApp.objects.filter(pk=obj.pk).first() if change else None
        secret_changed = old is not None and old.secret != obj.secret
        super().save_model(request, obj, form, change)
        after = _sso_snapshot(obj)
        if secret_changed:
            after = {**after, "secret": "changed"}
        audit.audit_record(action=audit.SSO_CHANGED, obj=obj, before=_sso_snapshot(old), after=after, request=request)

    def delete_model(self, request, obj):
        audit.audit_record(action=audit.SSO_CHANGED, obj=obj, before=_sso_snapshot(obj), after=None, request=request)
        super().delete_model(request, obj)
