"""Protocol clients for the tests, written from the protocols, not from
plnorg's code: what a reading app sends and reads.

Google Reader API (as FreshRSS implements it, and as the community wiki at
https://github.com/mihaip/google-reader-api describes it):
``POST accounts/ClientLogin`` with ``Email`` and ``Passwd`` answers lines
``SID=``, ``LSID=``, ``Auth=``; every other call sends
``Authorization: GoogleLogin auth=<Auth>``; writes send the token from
``reader/api/0/token`` as ``T``. Item ids: ``tag:google.com,2005:reader/item/``
and 16 hex digits, or the decimal number.

Fever (https://feedafever.com/api): POST to ``<base>?api&…`` with
``api_key`` = md5("email:password") in the body; JSON answers carry
``api_version`` and ``auth``.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from django.test import Client

GREADER = "/api/greader/"
FEVER = "/api/fever/"


def long_item_id(number: int) -> str:
    return "tag:google.com,2005:reader/item/" + format(number, "016x")


class GoogleReader:
    def __init__(self, client: Client | None = None) -> None:
        self.http = client or Client()
        self.auth: str | None = None
        self.action_token: str | None = None

    def client_login(self, email: str, password: str):
        response = self.http.post(GREADER + "accounts/ClientLogin", {"Email": email, "Passwd": password})
        if response.status_code == 200:
            lines = dict(line.split("=", 1) for line in response.content.decode().splitlines() if "=" in line)
            self.auth = lines["Auth"]
        return response

    def _headers(self) -> dict:
        return {"Authorization": f"GoogleLogin auth={self.auth}"} if self.auth else {}

    def get(self, path: str, params: dict | list | None = None):
        query = "?" + urlencode(params, doseq=True) if params else ""
        return self.http.get(GREADER + path + query, headers=self._headers())

    def token(self) -> str:
        response = self.get("reader/api/0/token")
        assert response.status_code == 200, response.content
        self.action_token = response.content.decode().strip()
        return self.action_token

    def post(self, path: str, data: dict | list, *, with_token: bool = True):
        pairs = list(data.items()) if isinstance(data, dict) else list(data)
        if with_token:
            pairs.append(("T", self.action_token or self.token()))
        body = urlencode(pairs, doseq=True)
        return self.http.post(
            GREADER + path, body, content_type="application/x-www-form-urlencoded", headers=self._headers()
        )

    def json(self, path: str, params: dict | list | None = None) -> dict:
        response = self.get(path, params)
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("application/json")
        return response.json()


class Fever:
    def __init__(self, email: str, password: str, client: Client | None = None) -> None:
        self.http = client or Client()
        self.api_key = hashlib.md5(f"{email}:{password}".encode()).hexdigest()

    def call(self, *flags: str, api_key: str | None = None, **values):
        """POST ?api&flag&…; values go in the body with api_key."""
        query = "&".join(["api", *flags])
        body = {"api_key": self.api_key if api_key is None else api_key, **{k: str(v) for k, v in values.items()}}
        return self.http.post(f"{FEVER}?{query}", urlencode(body), content_type="application/x-www-form-urlencoded")

    def json(self, *flags: str, **values) -> dict:
        response = self.call(*flags, **values)
        assert response.status_code == 200, response.content
        return response.json()
