"""Bearer tokens of the identity providers, and what SCIM adds to members and
teams that plnorg's own tables do not hold (the provider's userName and
externalId, first and last name, and the SCIM deletion mark)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Lower, NullIf
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import Team, User


class ScimTokenQuerySet(models.QuerySet):
    def usable(self) -> ScimTokenQuerySet:
        return self.filter(revoked_at__isnull=True)


class ScimToken(models.Model):
    """The bearer token one identity provider sends to /scim/v2/.

    Only the SHA-256 of the token is stored: it is 256 random bits, so a
    slow password hash would add nothing, and a digest can be looked up by
    an index. `python manage.py scim_token NAME` makes one and prints it
    once; revoking it (admin action) is final."""

    name = models.CharField(
        _("identity provider"), max_length=100, help_text=_("Who uses this token, e.g. Okta or Microsoft Entra ID.")
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(
        _("starts with"), max_length=12, editable=False, help_text=_("Enough to tell tokens apart, not to use one.")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScimTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("SCIM token")
        verbose_name_plural = _("SCIM tokens")
        constraints = [
            models.UniqueConstraint(
                fields=["name"], condition=Q(revoked_at__isnull=True), name="scim_token_one_usable_per_name"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None

    @property
    def audit_label(self) -> str:
        """How the audit log names what this token did."""
        return f"scim:{self.name}"


class ScimUser(models.Model):
    """A member as the identity provider knows them.

    Members created by hand, by invitation or by SSO have no row until the
    provider first writes to them; their userName is then their email."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="scim")
    user_name = models.CharField(
        _("userName"), max_length=254, help_text=_("The provider's sign-in name (often the email; Entra ID: the UPN).")
    )
    external_id = models.CharField(_("externalId"), max_length=255, blank=True)
    given_name = models.CharField(_("given name"), max_length=120, blank=True)
    family_name = models.CharField(_("family name"), max_length=120, blank=True)
    provisioned_by = models.ForeignKey(
        ScimToken,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="users",
        help_text=_("The token that last wrote this user."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("The provider deleted the user: deactivated (their data kept) and no longer a SCIM resource."),
    )

    class Meta:
        verbose_name = _("provisioned user")
        verbose_name_plural = _("provisioned users")
        constraints = [models.UniqueConstraint(Lower("user_name"), name="scim_user_unique_user_name")]

    def __str__(self) -> str:
        return self.user_name


class ScimGroup(models.Model):
    """A team as the identity provider knows it (a SCIM Group)."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="scim")
    external_id = models.CharField(_("externalId"), max_length=255, blank=True)
    provisioned_by = models.ForeignKey(
        ScimToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="groups"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("The provider deleted the group: the team stays as it is and is no longer a SCIM resource."),
    )

    class Meta:
        verbose_name = _("provisioned team")
        verbose_name_plural = _("provisioned teams")

    def __str__(self) -> str:
        return str(self.team)


# --- Members and teams as SCIM sees them ------------------------------------------


def with_user_name(users):
    """`users` annotated with `scim_user_name`: the provider's userName, else the email."""
    user_name = Coalesce(NullIf(F("scim__user_name"), Value("")), F("email"), output_field=models.CharField())
    return users.annotate(scim_user_name=user_name)


def scim_users():
    """Every user that is a SCIM resource (all but those the provider deleted)."""
    return with_user_name(
        User.objects.exclude(scim__deleted_at__isnull=False).select_related("member__team__scim", "scim")
    )


def scim_teams():
    """Every team that is a SCIM resource (all but those the provider deleted)."""
    return Team.objects.exclude(scim__deleted_at__isnull=False).select_related("scim")
