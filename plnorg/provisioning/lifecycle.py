"""Provisioning's part in a member's data export and deletion (registered
with core.lifecycle from ProvisioningConfig.ready). Offboarding needs nothing
here: a deactivated member stays a SCIM resource with active false."""

from __future__ import annotations

from typing import Any

from core.lifecycle import DataPart, register_data, register_exempt


def provisioning_export(*, member, **kwargs) -> dict[str, Any]:
    from .models import ScimUser

    link = ScimUser.objects.filter(user=member.user).select_related("provisioned_by").first()
    if link is None:
        return {"identity_provider": None}
    return {
        "identity_provider": {
            "provisioned_by": link.provisioned_by.name if link.provisioned_by else None,
            "user_name": link.user_name,
            "external_id": link.external_id,
            "given_name": link.given_name,
            "family_name": link.family_name,
            "first_provisioned_at": link.created_at.isoformat(),
            "last_changed_at": link.updated_at.isoformat(),
            "deleted_by_the_provider_at": link.deleted_at.isoformat() if link.deleted_at else None,
        }
    }


def provisioning_delete(*, member, **kwargs) -> None:
    from .models import ScimUser

    ScimUser.objects.filter(user=member.user).delete()


def register() -> None:
    register_data(
        DataPart(
            name="provisioning",
            models=("provisioning.ScimUser",),
            export=provisioning_export,
            delete=provisioning_delete,
        )
    )
    register_exempt(
        {
            "provisioning.ScimToken": "The organization's credentials for its identity provider: who made and revoked "
            "one is SET_NULL on deletion; the audit log keeps both actions."
        }
    )
