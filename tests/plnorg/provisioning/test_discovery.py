"""/ServiceProviderConfig, /ResourceTypes and /Schemas as RFC 7643 §5–7 and
RFC 7644 §4 define them."""

import pytest

from .conftest import BASE, GROUP, LIST, USER, error

pytestmark = pytest.mark.django_db

RESOURCE_TYPE = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
USER_TYPE = {
    "schemas": [RESOURCE_TYPE],
    "id": "User",
    "name": "User",
    "endpoint": "/Users",
    "description": "People in the organization (plnorg members).",
    "schema": USER,
    "meta": {"resourceType": "ResourceType", "location": f"{BASE}/ResourceTypes/User"},
}
GROUP_TYPE = {
    "schemas": [RESOURCE_TYPE],
    "id": "Group",
    "name": "Group",
    "endpoint": "/Groups",
    "description": "Teams; each member is in at most one.",
    "schema": GROUP,
    "meta": {"resourceType": "ResourceType", "location": f"{BASE}/ResourceTypes/Group"},
}


def test_service_provider_config_says_what_is_supported(okta):
    answer = okta.get("ServiceProviderConfig")

    assert (answer.status, answer.headers["Content-Type"]) == (200, "application/scim+json")
    assert answer.body == {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": 100},
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
        "meta": {"resourceType": "ServiceProviderConfig", "location": f"{BASE}/ServiceProviderConfig"},
    }


def test_resource_types_list_users_and_groups(okta):
    listed = okta.get("ResourceTypes")

    assert listed.body == {
        "schemas": [LIST],
        "totalResults": 2,
        "startIndex": 1,
        "itemsPerPage": 2,
        "Resources": [USER_TYPE, GROUP_TYPE],
    }
    assert okta.get("ResourceTypes/Group").body == GROUP_TYPE
    assert okta.get("ResourceTypes/Printer").body == error(404, "No resource type 'Printer'.")


def test_schemas_describe_exactly_what_plnorg_stores(okta):
    listed = okta.get("Schemas").body
    group = okta.get(f"Schemas/{GROUP}").body
    user = okta.get(f"Schemas/{USER}").body

    assert (listed["totalResults"], [s["id"] for s in listed["Resources"]]) == (2, [USER, GROUP])
    assert listed["Resources"] == [user, group]
    assert [a["name"] for a in user["attributes"]] == [
        "userName",
        "name",
        "displayName",
        "title",
        "active",
        "emails",
        "groups",
    ]
    assert user["attributes"][0] == {
        "name": "userName",
        "type": "string",
        "multiValued": False,
        "description": "The identity provider's sign-in name; unique. When it is an email address and no emails are sent, it is the member's email.",
        "required": True,
        "caseExact": False,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "server",
    }  # fmt: skip
    assert group == {
        "schemas": [SCHEMA],
        "id": GROUP,
        "name": "Group",
        "description": "A team.",
        "attributes": [
            {
                "name": "displayName",
                "type": "string",
                "multiValued": False,
                "description": "The team's name; unique.",
                "required": True,
                "caseExact": False,
                "mutability": "readWrite",
                "returned": "default",
                "uniqueness": "server",
            },
            {
                "name": "members",
                "type": "complex",
                "multiValued": True,
                "description": "The team's members (users).",
                "required": False,
                "mutability": "readWrite",
                "returned": "default",
                "subAttributes": [
                    {
                        "name": "value",
                        "type": "string",
                        "multiValued": False,
                        "description": "The user's id.",
                        "required": False,
                        "caseExact": False,
                        "mutability": "immutable",
                        "returned": "default",
                        "uniqueness": "none",
                    },
                    {
                        "name": "$ref",
                        "type": "reference",
                        "multiValued": False,
                        "description": "The user's URI.",
                        "required": False,
                        "caseExact": False,
                        "mutability": "immutable",
                        "returned": "default",
                        "uniqueness": "none",
                        "referenceTypes": ["User"],
                    },
                    {
                        "name": "display",
                        "type": "string",
                        "multiValued": False,
                        "description": "The member's name.",
                        "required": False,
                        "caseExact": False,
                        "mutability": "readOnly",
                        "returned": "default",
                        "uniqueness": "none",
                    },
                ],
            },
        ],
        "meta": {"resourceType": "Schema", "location": f"{BASE}/Schemas/{GROUP}"},
    }
    assert okta.get("Schemas/urn:example:nothing").body == error(404, "No schema 'urn:example:nothing'.")


def test_discovery_endpoints_refuse_filters(okta):
    answer = okta.get('Schemas?filter=id eq "x"')

    assert (answer.status, answer.body) == (403, error(403, "Discovery endpoints cannot be filtered."))
