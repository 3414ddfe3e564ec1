"""Company single sign-on: OpenID Connect end to end against a small identity
provider that the test runs on 127.0.0.1 (discovery, authorize, token,
userinfo, JWKS; ID tokens signed RS256 with jwcrypto)."""

import functools
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp
from django.contrib.sites.models import Site
from django.test import Client
from django.urls import reverse
from jwcrypto import jwk, jwt

from members.models import Member, OutboundEmail, User
from tests.factories import UserFactory
from tests.pages import text_of

pytestmark = pytest.mark.django_db

CLIENT_ID = "plnorg-test"
CLIENT_SECRET = "idp-test-secret"  # noqa: S105 - a test IdP's secret


@functools.cache
def signing_key() -> jwk.JWK:
    return jwk.JWK.generate(kty="RSA", size=2048, kid="idp-key-1", use="sig", alg="RS256")


class IdentityProvider:
    """A minimal OpenID Connect provider. `claims` is who signs in next; the
    authorize endpoint approves at once and redirects back with code+state."""

    def __init__(self):
        self.key = signing_key()
        self.claims: dict = {}
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}
        self.hits: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def id_token(self, claims: dict, nonce: str | None) -> str:
        now = int(time.time())
        payload = {"iss": self.base_url, "aud": CLIENT_ID, "iat": now, "exp": now + 300, **claims}
        if nonce:
            payload["nonce"] = nonce
        token = jwt.JWT(header={"alg": "RS256", "kid": "idp-key-1", "typ": "JWT"}, claims=payload)
        token.make_signed_token(self.key)
        return token.serialize()

    def _handler(self):
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urlsplit(self.path)
                idp.hits.append(url.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    self._json(
                        200,
                        {
                            "issuer": idp.base_url,
                            "authorization_endpoint": f"{idp.base_url}/authorize",
                            "token_endpoint": f"{idp.base_url}/token",
                            "userinfo_endpoint": f"{idp.base_url}/userinfo",
                            "jwks_uri": f"{idp.base_url}/jwks",
                            "response_types_supported": ["code"],
                            "subject_types_supported": ["public"],
                            "id_token_signing_alg_values_supported": ["RS256"],
                            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                        },
                    )
                elif url.path == "/authorize":
                    assert query["client_id"] == CLIENT_ID
                    assert query["response_type"] == "code"
                    code = uuid.uuid4().hex
                    idp.codes[code] = {"claims": dict(idp.claims), "nonce": query.get("nonce")}
                    target = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.end_headers()
                elif url.path == "/userinfo":
                    bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    if bearer not in idp.tokens:
                        self._json(401, {"error": "invalid_token"})
                        return
                    self._json(200, idp.tokens[bearer])
                elif url.path == "/jwks":
                    self._json(200, {"keys": [idp.key.export_public(as_dict=True)]})
                else:
                    self._json(404, {"error": "not_found"})

            def do_POST(self):
                idp.hits.append(self.path)
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if self.path != "/token":
                    self._json(404, {"error": "not_found"})
                    return
                grant = idp.codes.pop(form.get("code", ""), None)
                if form.get("client_secret") != CLIENT_SECRET or grant is None:
                    self._json(400, {"error": "invalid_grant"})
                    return
                access_token = uuid.uuid4().hex
                idp.tokens[access_token] = grant["claims"]
                self._json(
                    200,
                    {
                        "access_token": access_token,
                        "token_type": "Bearer",
                        "expires_in": 300,
                        "id_token": idp.id_token(grant["claims"], grant["nonce"]),
                    },
                )

        return Handler


@pytest.fixture
def idp():
    with IdentityProvider() as provider:
        app = SocialApp.objects.create(
            provider="openid_connect",
            provider_id="corp",
            name="Company SSO",
            client_id=CLIENT_ID,
            secret=CLIENT_SECRET,
            settings={"server_url": provider.base_url},
        )
        app.sites.add(Site.objects.get_current())
        yield provider


def claims_for(email: str, *, verified=True, sub: str | None = None) -> dict:
    return {
        "sub": sub or f"sub-{email}",
        "email": email,
        "email_verified": verified,
        "given_name": "Grace",
        "family_name": "Hopper",
        "name": "Grace B. Hopper",
    }


def sso_login(client: Client, idp: IdentityProvider, claims: dict):
    """Press "Company SSO" on the sign-in page, let the IdP approve, come back."""
    idp.claims = claims
    start = client.post(reverse("openid_connect_login", kwargs={"provider_id": "corp"}))
    assert start.status_code == 302
    assert start["Location"].startswith(f"{idp.base_url}/authorize?")
    approved = httpx.get(start["Location"], follow_redirects=False, timeout=5)
    assert approved.status_code == 302
    callback = urlsplit(approved.headers["Location"])
    assert callback.path == reverse("openid_connect_callback", kwargs={"provider_id": "corp"})
    return client.get(f"{callback.path}?{callback.query}")


def test_sign_in_page_offers_company_sso(idp):
    page = Client().get(reverse("account_login"))

    assert "Company SSO" in text_of(page)


def test_sso_creates_a_verified_member_and_signs_in(idp):
    client = Client()

    response = sso_login(client, idp, claims_for("grace@example.com"))

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    user = User.objects.get(email="grace@example.com")
    assert user.has_usable_password() is False
    assert list(EmailAddress.objects.filter(user=user).values_list("email", "verified", "primary")) == [
        ("grace@example.com", True, True)
    ]
    assert Member.objects.get(user=user).display_name == "Grace Hopper"
    account = SocialAccount.objects.get(user=user)
    assert (account.provider, account.uid) == ("corp", "sub-grace@example.com")
    home = client.get(reverse("home"))
    assert "Hello, Grace Hopper" in text_of(home)
    assert "Your PLN at a glance" in text_of(home)
    assert idp.hits[0] == "/.well-known/openid-configuration"
    assert [hit for hit in idp.hits if not hit.startswith("/.well-known/")] == ["/authorize", "/token", "/userinfo"]
    assert not OutboundEmail.objects.filter(to="grace@example.com").exists()


def test_sso_signs_the_same_member_in_again(idp):
    sso_login(Client(), idp, claims_for("grace@example.com"))
    client = Client()

    again = sso_login(client, idp, claims_for("grace@example.com"))

    assert again["Location"] == reverse("home")
    assert User.objects.filter(email="grace@example.com").count() == 1
    assert Member.objects.filter(user__email="grace@example.com").count() == 1


def test_sso_email_outside_signup_domains_is_refused(idp, settings):
    settings.SIGNUP_DOMAINS = ["example.com"]

    response = sso_login(Client(), idp, claims_for("mallory@elsewhere.test"))

    assert response.status_code == 403
    assert "Sign-up not possible" in text_of(response)
    assert "Sign-up is limited to addresses at example.com. Use your work email address." in text_of(response)
    assert not User.objects.filter(email="mallory@elsewhere.test").exists()


@pytest.mark.parametrize("claim", [False, "false", None])
def test_sso_email_not_marked_verified_must_be_confirmed(idp, claim):
    client = Client()

    response = sso_login(client, idp, claims_for("ada@example.com", verified=claim))

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="ada@example.com")
    assert EmailAddress.objects.get(user=user).verified is False
    assert OutboundEmail.objects.get(to="ada@example.com").kind == "email_confirmation_signup"
    assert "_auth_user_id" not in client.session


def test_sso_email_verified_as_string_true_counts(idp):
    response = sso_login(Client(), idp, claims_for("lin@example.com", verified="true"))

    assert response["Location"] == reverse("home")
    assert EmailAddress.objects.get(email="lin@example.com").verified is True


def test_sso_with_verified_email_signs_into_the_existing_account(idp):
    existing = UserFactory(email="ana.local@example.com")

    response = sso_login(Client(), idp, claims_for("ana.local@example.com"))

    assert response["Location"] == reverse("home")
    assert SocialAccount.objects.get(provider="corp").user_id == existing.pk
    assert User.objects.filter(email="ana.local@example.com").count() == 1


def test_sso_with_unverified_email_cannot_take_over_an_existing_account(idp):
    existing = UserFactory(email="victim@example.com")
    client = Client()

    sso_login(client, idp, claims_for("victim@example.com", verified=False))

    assert not SocialAccount.objects.filter(user=existing).exists()
    assert client.session.get("_auth_user_id") != str(existing.pk)


def test_deactivated_user_cannot_sign_in_with_sso(idp):
    sso_login(Client(), idp, claims_for("grace@example.com"))
    User.objects.filter(email="grace@example.com").update(is_active=False)
    client = Client()

    response = sso_login(client, idp, claims_for("grace@example.com"))

    assert response.status_code == 403
    assert "This account is inactive." in text_of(response)
    assert "_auth_user_id" not in client.session


def test_deactivated_password_user_cannot_sign_in_with_sso_by_email(idp):
    UserFactory(email="former@example.com", is_active=False)
    client = Client()

    response = sso_login(client, idp, claims_for("former@example.com"))

    assert "_auth_user_id" not in client.session
    assert not SocialAccount.objects.filter(user__email="former@example.com").exists()
    assert "This account is inactive." in text_of(response)


def test_id_token_signature_checks_out_against_the_jwks(idp, rf):
    from allauth.socialaccount.adapter import get_adapter

    request = rf.get("/")
    provider = get_adapter().get_provider(request, "corp")
    token = idp.id_token(claims_for("grace@example.com"), nonce=None)

    login = provider.verify_token(request, {"id_token": token})

    assert login.user.email == "grace@example.com"
    assert "/jwks" in idp.hits
