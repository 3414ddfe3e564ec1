"""A SCIM client for the tests: the Django test client with a bearer token,
sending and reading application/scim+json."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from plnorg.provisioning.services.tokens import scim_token_create

SITE = "https://plnorg.example.com"
BASE = f"{SITE}/scim/v2"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
VERSION = re.compile(r'W/"[0-9a-f]{20}"')


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


class ScimClient:
    """Requests as an identity provider sends them: `Authorization: Bearer …`,
    JSON bodies, paths relative to /scim/v2/."""

    def __init__(self, secret: str | None) -> None:
        self.client = Client(raise_request_exception=True)
        self.secret = secret

    def send(self, method: str, path: str, body: Any = None, **headers: str) -> Answer:
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        if self.secret is not None:
            extra.setdefault("HTTP_AUTHORIZATION", f"Bearer {self.secret}")
        if body is not None:
            extra |= {"data": json.dumps(body), "content_type": "application/scim+json"}
        response = getattr(self.client, method)(f"/scim/v2/{path}", **extra)
        content = response.content
        return Answer(response.status_code, json.loads(content) if content else None, dict(response.headers))

    def get(self, path: str, **headers: str) -> Answer:
        return self.send("get", path, **headers)

    def post(self, path: str, body: Any, **headers: str) -> Answer:
        return self.send("post", path, body, **headers)

    def put(self, path: str, body: Any, **headers: str) -> Answer:
        return self.send("put", path, body, **headers)

    def patch(self, path: str, body: Any, **headers: str) -> Answer:
        return self.send("patch", path, body, **headers)

    def delete(self, path: str, **headers: str) -> Answer:
        return self.send("delete", path, **headers)


def versionless(resource: dict[str, Any], etag: str | None = None) -> dict[str, Any]:
    """The resource without meta.version, after checking the version's form
    (and that it is the ETag, when one came with it)."""
    meta = dict(resource["meta"])
    version = meta.pop("version")
    assert VERSION.fullmatch(version), version
    if etag is not None:
        assert etag == version
    return {**resource, "meta": meta}


def error(status: int, detail: str, scim_type: str = "") -> dict[str, Any]:
    body = {"schemas": [ERROR], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return body


def stamp(value) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def okta_token(db):
    return scim_token_create(name="Okta")


@pytest.fixture
def okta(okta_token) -> ScimClient:
    return ScimClient(okta_token[1])


@pytest.fixture
def entra_token(db):
    return scim_token_create(name="Microsoft Entra ID")


@pytest.fixture
def entra(entra_token) -> ScimClient:
    return ScimClient(entra_token[1])
