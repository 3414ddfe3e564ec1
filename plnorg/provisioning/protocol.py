"""The wire format of SCIM 2.0: the media type, schema URNs, list responses
and the error response (RFC 7644 §3.4.2, §3.12)."""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse

CONTENT_TYPE = "application/scim+json"

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_USER_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
SERVICE_PROVIDER_CONFIG_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"

# The most resources one page of a list holds (ServiceProviderConfig says so).
MAX_RESULTS = 100

UNAUTHORIZED_DETAIL = "Authentication required: send the identity provider's SCIM bearer token."


_ID = re.compile(r"[0-9]{1,18}")


def resource_pk(value: Any) -> int | None:
    """The row an id names: plnorg's ids are row numbers written as strings;
    anything else (letters, other digits, numbers past a bigint) names nothing."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return int(value) if isinstance(value, str) and _ID.fullmatch(value) else None


class ScimError(Exception):
    """A request plnorg refuses, answered in SCIM's error schema.

    `scim_type` is one of RFC 7644's detail codes (invalidFilter, uniqueness,
    invalidValue, invalidPath, noTarget, mutability, invalidSyntax...)."""

    def __init__(self, status: int, detail: str, *, scim_type: str = "", headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type
        self.headers = headers or {}

    def response(self) -> HttpResponse:
        body: dict[str, Any] = {"schemas": [ERROR], "status": str(self.status), "detail": self.detail}
        if self.scim_type:
            body["scimType"] = self.scim_type
        response = scim_response(body, status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response


def scim_response(body: dict[str, Any] | None, *, status: int = 200, etag: str = "") -> HttpResponse:
    content = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
    response = HttpResponse(content, status=status, content_type=CONTENT_TYPE)
    if etag:
        response["ETag"] = etag
    response["Cache-Control"] = "no-store"
    return response


def list_response(resources: list[dict[str, Any]], *, total: int, start_index: int = 1) -> dict[str, Any]:
    return {
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


def location(name: str, **kwargs: str) -> str:
    """The absolute address of a SCIM endpoint (meta.location, $ref), on SITE_URL."""
    return settings.SITE_URL + reverse(f"provisioning:{name}", kwargs=kwargs or None)


def page_bounds(params) -> tuple[int, int]:
    """startIndex (1-based; below 1 counts as 1) and count (negative counts as
    0, more than MAX_RESULTS as MAX_RESULTS) of a list request (RFC 7644 §3.4.2.4)."""
    try:
        start = int(params.get("startIndex") or 1)
        count = int(params.get("count") if params.get("count") not in (None, "") else MAX_RESULTS)
    except ValueError:
        raise ScimError(400, "startIndex and count must be integers.", scim_type="invalidValue") from None
    return max(start, 1), min(max(count, 0), MAX_RESULTS)


def attribute_selection(params) -> tuple[list[str], list[str]]:
    """The `attributes` and `excludedAttributes` parameters, as lowercase paths."""

    def split(value: str | None) -> list[str]:
        return [part.strip().lower() for part in (value or "").split(",") if part.strip()]

    return split(params.get("attributes")), split(params.get("excludedAttributes"))


ALWAYS_RETURNED = frozenset({"schemas", "id"})


def select_attributes(resource: dict[str, Any], *, attributes: list[str], excluded: list[str]) -> dict[str, Any]:
    """Apply `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5) to one
    resource: top-level names and `name.sub` paths, case-insensitive; `id` and
    `schemas` are always returned."""
    schema_prefixes = tuple(s.lower() + ":" for s in resource.get("schemas", []))

    def plain(path: str) -> str:
        for prefix in schema_prefixes:
            if path.startswith(prefix):
                return path[len(prefix) :]
        return path

    wanted = [plain(p) for p in attributes]
    dropped = [plain(p) for p in excluded]
    result: dict[str, Any] = {}
    for key, value in resource.items():
        lower = key.lower()
        if wanted and lower not in ALWAYS_RETURNED:
            if lower in wanted:
                result[key] = value
            elif isinstance(value, dict) and any(p.startswith(lower + ".") for p in wanted):
                subs = {p.split(".", 1)[1] for p in wanted if p.startswith(lower + ".")}
                result[key] = {k: v for k, v in value.items() if k.lower() in subs}
            continue
        if lower in dropped and lower not in ALWAYS_RETURNED:
            continue
        if isinstance(value, dict) and any(p.startswith(lower + ".") for p in dropped):
            subs = {p.split(".", 1)[1] for p in dropped if p.startswith(lower + ".")}
            value = {k: v for k, v in value.items() if k.lower() not in subs}
        result[key] = value
    return result
