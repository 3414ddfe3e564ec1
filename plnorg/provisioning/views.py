"""The SCIM 2.0 endpoints under /scim/v2/: thin views over the services,
the resources and the discovery documents. Every one authenticates with a
bearer token (plnorg.provisioning.auth), never with a session, and answers
errors in SCIM's error schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from members.models import Team, User

from .auth import request_token
from .discovery import RESOURCE_TYPES, resource_type, schemas, service_provider_config
from .filters import filter_parse, filter_q
from .models import ScimToken, scim_teams, scim_users
from .protocol import (
    GROUP_SCHEMA,
    USER_SCHEMA,
    ScimError,
    attribute_selection,
    list_response,
    page_bounds,
    resource_pk,
    scim_response,
    select_attributes,
)
from .resources import GROUP_ATTRIBUTES, USER_ATTRIBUTES, group_resource, scim_members_prefetch, user_resource
from .services.groups import scim_group_create, scim_group_delete, scim_group_patch, scim_group_replace
from .services.users import scim_user_create, scim_user_delete, scim_user_patch, scim_user_replace


@method_decorator(csrf_exempt, name="dispatch")
class ScimView(View):
    """The bearer token first, then the method; any refusal as a SCIM error."""

    http_method_names = ["get"]
    token: ScimToken

    def dispatch(self, request, *args, **kwargs):
        try:
            self.token = request_token(request)
            method = request.method.lower()
            if method not in self.http_method_names:
                allowed = ", ".join(m.upper() for m in self.http_method_names)
                raise ScimError(
                    405, f"{request.method} is not allowed here (allowed: {allowed}).", headers={"Allow": allowed}
                )
            return getattr(self, method)(request, *args, **kwargs)
        except ScimError as error:
            return error.response()

    def body(self) -> Any:
        try:
            return json.loads(self.request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise ScimError(400, "The request body is not valid JSON.", scim_type="invalidSyntax") from None


def _resource_response(request, resource: dict[str, Any], *, status: int = 200) -> HttpResponse:
    attributes, excluded = attribute_selection(request.GET)
    response = scim_response(
        select_attributes(resource, attributes=attributes, excluded=excluded),
        status=status,
        etag=resource["meta"]["version"],
    )
    if status == 201:
        response["Location"] = resource["meta"]["location"]
    return response


def _list(request, queryset: QuerySet, render: Callable[[Any], dict[str, Any]]) -> HttpResponse:
    start, count = page_bounds(request.GET)
    attributes, excluded = attribute_selection(request.GET)
    total = queryset.count()
    page = list(queryset[start - 1 : start - 1 + count]) if count else []
    resources = [select_attributes(render(row), attributes=attributes, excluded=excluded) for row in page]
    return scim_response(list_response(resources, total=total, start_index=start))


def _filtered(request, queryset: QuerySet, *, schema: str, attributes) -> QuerySet:
    text = request.GET.get("filter", "")
    if not text.strip():
        return queryset
    return queryset.filter(filter_q(filter_parse(text, schema=schema), attributes))


def _not_modified(request, resource: dict[str, Any]) -> HttpResponse | None:
    version = resource["meta"]["version"]
    if request.headers.get("If-None-Match", "").strip() == version:
        return scim_response(None, status=304, etag=version)
    return None


def _precondition(request, resource: dict[str, Any]) -> None:
    """If-Match (RFC 7644 §3.14): refuse a change to a resource that changed
    since the client read it."""
    wanted = request.headers.get("If-Match", "").strip()
    if wanted and wanted != "*" and resource["meta"]["version"] not in [v.strip() for v in wanted.split(",")]:
        raise ScimError(412, "The resource changed since it was read (If-Match does not match its version).")


def _user_or_404(resource_id: str) -> User:
    pk = resource_pk(resource_id)
    user = scim_users().filter(pk=pk).first() if pk is not None else None
    if user is None:
        raise ScimError(404, f"No user with id {resource_id!r}.")
    return user


def _group_or_404(resource_id: str) -> Team:
    teams = scim_teams().prefetch_related(scim_members_prefetch())
    pk = resource_pk(resource_id)
    team = teams.filter(pk=pk).first() if pk is not None else None
    if team is None:
        raise ScimError(404, f"No group with id {resource_id!r}.")
    return team


class UsersView(ScimView):
    http_method_names = ["get", "post"]

    def get(self, request):
        users = _filtered(request, scim_users(), schema=USER_SCHEMA, attributes=USER_ATTRIBUTES)
        return _list(request, users.order_by("pk"), user_resource)

    def post(self, request):
        user = scim_user_create(body=self.body(), token=self.token, request=request)
        return _resource_response(request, user_resource(user), status=201)


class UserView(ScimView):
    http_method_names = ["get", "put", "patch", "delete"]

    def get(self, request, resource_id: str):
        resource = user_resource(_user_or_404(resource_id))
        return _not_modified(request, resource) or _resource_response(request, resource)

    def put(self, request, resource_id: str):
        user = _user_or_404(resource_id)
        _precondition(request, user_resource(user))
        user = scim_user_replace(user=user, body=self.body(), token=self.token, request=request)
        return _resource_response(request, user_resource(user))

    def patch(self, request, resource_id: str):
        user = _user_or_404(resource_id)
        _precondition(request, user_resource(user))
        user = scim_user_patch(user=user, body=self.body(), token=self.token, request=request)
        return _resource_response(request, user_resource(user))

    def delete(self, request, resource_id: str):
        user = _user_or_404(resource_id)
        _precondition(request, user_resource(user))
        scim_user_delete(user=user, token=self.token, request=request)
        return scim_response(None, status=204)


class GroupsView(ScimView):
    http_method_names = ["get", "post"]

    def get(self, request):
        teams = _filtered(request, scim_teams(), schema=GROUP_SCHEMA, attributes=GROUP_ATTRIBUTES)
        return _list(request, teams.prefetch_related(scim_members_prefetch()).order_by("pk"), group_resource)

    def post(self, request):
        team = scim_group_create(body=self.body(), token=self.token, request=request)
        return _resource_response(request, group_resource(team), status=201)


class GroupView(ScimView):
    http_method_names = ["get", "put", "patch", "delete"]

    def get(self, request, resource_id: str):
        resource = group_resource(_group_or_404(resource_id))
        return _not_modified(request, resource) or _resource_response(request, resource)

    def put(self, request, resource_id: str):
        team = _group_or_404(resource_id)
        _precondition(request, group_resource(team))
        team = scim_group_replace(team=team, body=self.body(), token=self.token, request=request)
        return _resource_response(request, group_resource(team))

    def patch(self, request, resource_id: str):
        """Answers 204 No Content, as both providers expect for groups (a
        group's whole member list is not sent back on every change)."""
        team = _group_or_404(resource_id)
        _precondition(request, group_resource(team))
        team = scim_group_patch(team=team, body=self.body(), token=self.token, request=request)
        return scim_response(None, status=204, etag=group_resource(team)["meta"]["version"])

    def delete(self, request, resource_id: str):
        team = _group_or_404(resource_id)
        _precondition(request, group_resource(team))
        scim_group_delete(team=team, token=self.token, request=request)
        return scim_response(None, status=204)


class ServiceProviderConfigView(ScimView):
    def get(self, request):
        return scim_response(service_provider_config())


def _no_filter(request) -> None:
    """RFC 7644 §4: discovery endpoints refuse filters, so a client cannot
    believe a filter was applied."""
    if "filter" in request.GET:
        raise ScimError(403, "Discovery endpoints cannot be filtered.")


class ResourceTypesView(ScimView):
    def get(self, request, type_id: str | None = None):
        _no_filter(request)
        if type_id is None:
            types = [resource_type(t) for t in RESOURCE_TYPES]
            return scim_response(list_response(types, total=len(types)))
        if type_id not in RESOURCE_TYPES:
            raise ScimError(404, f"No resource type {type_id!r}.")
        return scim_response(resource_type(type_id))


class SchemasView(ScimView):
    def get(self, request, schema_id: str | None = None):
        _no_filter(request)
        documents = schemas()
        if schema_id is None:
            return scim_response(list_response(list(documents.values()), total=len(documents)))
        if schema_id not in documents:
            raise ScimError(404, f"No schema {schema_id!r}.")
        return scim_response(documents[schema_id])
