"""/scim/v2/ (mounted by the root URLconf). Paths as the SCIM clients write
them: capitalised, no trailing slash (one is tolerated)."""

from django.urls import re_path

from core import permissions as perm

from . import views
from .protocol import UNAUTHORIZED_DETAIL, USER_SCHEMA

app_name = "provisioning"


def _scim(sample=perm.no_args) -> perm.Access:
    """The SCIM API's own authentication: a bearer token of an identity
    provider (plnorg.provisioning.auth), never a session, so every role of the
    site, signed in or not, gets 401 in SCIM's error schema."""
    return perm.Access(
        roles=perm.PUBLIC,
        text=UNAUTHORIZED_DETAIL,
        sample=sample,
        status=401,
        content_type="application/scim+json",
        enforced_by_view=True,
        object_rule="a usable SCIM bearer token; without one 401 (SCIM error JSON), never a session",
        csrf_exempt="identity providers call it with a bearer token, never a session cookie, so a forged "
        "cross-site request carries no credential",
    )


perm.register(
    {
        "provisioning:users": _scim(),
        "provisioning:user": _scim(lambda user: {"resource_id": "1"}),
        "provisioning:groups": _scim(),
        "provisioning:group": _scim(lambda user: {"resource_id": "1"}),
        "provisioning:service_provider_config": _scim(),
        "provisioning:schemas": _scim(),
        "provisioning:schema": _scim(lambda user: {"schema_id": USER_SCHEMA}),
        "provisioning:resource_types": _scim(),
        "provisioning:resource_type": _scim(lambda user: {"type_id": "User"}),
    }
)

urlpatterns = [
    re_path(r"^Users/?$", views.UsersView.as_view(), name="users"),
    re_path(r"^Users/(?P<resource_id>[^/]+)/?$", views.UserView.as_view(), name="user"),
    re_path(r"^Groups/?$", views.GroupsView.as_view(), name="groups"),
    re_path(r"^Groups/(?P<resource_id>[^/]+)/?$", views.GroupView.as_view(), name="group"),
    re_path(r"^ServiceProviderConfig/?$", views.ServiceProviderConfigView.as_view(), name="service_provider_config"),
    re_path(r"^Schemas/?$", views.SchemasView.as_view(), name="schemas"),
    re_path(r"^Schemas/(?P<schema_id>[^/]+)/?$", views.SchemasView.as_view(), name="schema"),
    re_path(r"^ResourceTypes/?$", views.ResourceTypesView.as_view(), name="resource_types"),
    re_path(r"^ResourceTypes/(?P<type_id>[^/]+)/?$", views.ResourceTypesView.as_view(), name="resource_type"),
]
