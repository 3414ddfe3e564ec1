"""What the service provider supports, as RFC 7643 §5–7 and RFC 7644 §4
define it: /ServiceProviderConfig, /ResourceTypes and /Schemas. The schemas
list exactly the attributes plnorg stores (others are accepted and ignored)."""

from __future__ import annotations

from typing import Any

from .protocol import (
    GROUP_SCHEMA,
    MAX_RESULTS,
    RESOURCE_TYPE_SCHEMA,
    SCHEMA_SCHEMA,
    SERVICE_PROVIDER_CONFIG_SCHEMA,
    USER_SCHEMA,
    location,
)


def service_provider_config() -> dict[str, Any]:
    return {
        "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA],
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": True},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "A token per identity provider, made with `python manage.py scim_token NAME`.",
                "specUri": "https://www.rfc-editor.org/info/rfc6750",
                "primary": True,
            }
        ],
        "meta": {"resourceType": "ServiceProviderConfig", "location": location("service_provider_config")},
    }


RESOURCE_TYPES = {
    "User": ("Users", "People in the organization (plnorg members).", USER_SCHEMA),
    "Group": ("Groups", "Teams; each member is in at most one.", GROUP_SCHEMA),
}


def resource_type(type_id: str) -> dict[str, Any]:
    endpoint, description, schema = RESOURCE_TYPES[type_id]
    return {
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": type_id,
        "name": type_id,
        "endpoint": f"/{endpoint}",
        "description": description,
        "schema": schema,
        "meta": {"resourceType": "ResourceType", "location": location("resource_type", type_id=type_id)},
    }


def _attribute(
    name: str,
    description: str,
    *,
    type: str = "string",
    multi_valued: bool = False,
    required: bool = False,
    case_exact: bool = False,
    mutability: str = "readWrite",
    returned: str = "default",
    uniqueness: str = "none",
    sub_attributes: list[dict[str, Any]] | None = None,
    reference_types: list[str] | None = None,
    canonical_values: list[str] | None = None,
) -> dict[str, Any]:
    """One attribute definition with every characteristic spelled out (RFC 7643 §7)."""
    definition: dict[str, Any] = {
        "name": name,
        "type": type,
        "multiValued": multi_valued,
        "description": description,
        "required": required,
    }
    if canonical_values is not None:
        definition["canonicalValues"] = canonical_values
    if type in ("string", "reference", "binary"):
        definition["caseExact"] = case_exact
    definition |= {"mutability": mutability, "returned": returned}
    if type != "complex":
        definition["uniqueness"] = uniqueness
    if reference_types is not None:
        definition["referenceTypes"] = reference_types
    if sub_attributes is not None:
        definition["subAttributes"] = sub_attributes
    return definition


def _user_schema() -> dict[str, Any]:
    return {
        "id": USER_SCHEMA,
        "name": "User",
        "description": "A member of the organization.",
        "attributes": [
            _attribute(
                "userName",
                "The identity provider's sign-in name; unique. When it is an email address and no emails are sent, it is the member's email.",
                required=True,
                uniqueness="server",
            ),
            _attribute(
                "name",
                "The member's name.",
                type="complex",
                sub_attributes=[
                    _attribute("formatted", "Given and family name, or the display name.", mutability="readOnly"),
                    _attribute("familyName", "Family name."),
                    _attribute("givenName", "Given name."),
                ],
            ),
            _attribute("displayName", "The name colleagues see."),
            _attribute("title", "Job title."),
            _attribute("active", "False deactivates (offboards) the member; true reactivates.", type="boolean"),
            _attribute(
                "emails",
                "The member's one (work) email address, used to sign in; unique.",
                type="complex",
                multi_valued=True,
                required=True,
                sub_attributes=[
                    _attribute("value", "The email address.", uniqueness="server"),
                    _attribute("type", "Always work.", canonical_values=["work"]),
                    _attribute("primary", "Always true.", type="boolean"),
                ],
            ),
            _attribute(
                "groups",
                "The member's team.",
                type="complex",
                multi_valued=True,
                mutability="readOnly",
                sub_attributes=[
                    _attribute("value", "The team's id.", mutability="readOnly"),
                    _attribute(
                        "$ref", "The team's URI.", type="reference", reference_types=["Group"], mutability="readOnly"
                    ),
                    _attribute("display", "The team's name.", mutability="readOnly"),
                ],
            ),
        ],
        "meta": {"resourceType": "Schema", "location": location("schema", schema_id=USER_SCHEMA)},
    }


def _group_schema() -> dict[str, Any]:
    return {
        "id": GROUP_SCHEMA,
        "name": "Group",
        "description": "A team.",
        "attributes": [
            _attribute("displayName", "The team's name; unique.", required=True, uniqueness="server"),
            _attribute(
                "members",
                "The team's members (users).",
                type="complex",
                multi_valued=True,
                sub_attributes=[
                    _attribute("value", "The user's id.", mutability="immutable"),
                    _attribute(
                        "$ref", "The user's URI.", type="reference", reference_types=["User"], mutability="immutable"
                    ),
                    _attribute("display", "The member's name.", mutability="readOnly"),
                ],
            ),
        ],
        "meta": {"resourceType": "Schema", "location": location("schema", schema_id=GROUP_SCHEMA)},
    }


def schemas() -> dict[str, dict[str, Any]]:
    """Each schema by its URN. (A schema resource's own "schemas" is the Schema
    schema, RFC 7643 §7.)"""
    return {s["id"]: {"schemas": [SCHEMA_SCHEMA], **s} for s in (_user_schema(), _group_schema())}
