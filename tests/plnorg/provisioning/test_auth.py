"""Who may call /scim/v2/: a usable bearer token of an identity provider.
Sessions do not count, wrong tokens are limited per address, tokens are
stored hashed, made by `manage.py scim_token`, revoked in the admin, and
both are audited."""

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from members.models import AuditEvent
from plnorg.provisioning.auth import FAILED_AUTH_LIMIT
from plnorg.provisioning.models import ScimToken
from plnorg.provisioning.services.tokens import scim_token_create
from tests.pages import text_of

from .conftest import USER, ScimClient, error

pytestmark = pytest.mark.django_db

NO_TOKEN = error(401, "Authentication required: send the identity provider's SCIM bearer token.")
BAD_TOKEN = error(401, "The bearer token is not valid (unknown or revoked).")


@pytest.mark.parametrize(
    ("authorization", "expected", "challenge"),
    [
        (None, NO_TOKEN, 'Bearer realm="plnorg SCIM"'),
        ("Basic YWRtaW46YWRtaW4=", NO_TOKEN, 'Bearer realm="plnorg SCIM"'),
        ("Bearer scim_not-a-real-token", BAD_TOKEN, 'Bearer realm="plnorg SCIM", error="invalid_token"'),
    ],
)
def test_no_or_a_wrong_token_is_a_401_in_scim_json(authorization, expected, challenge):
    client = ScimClient(None)
    headers = {"Authorization": authorization} if authorization else {}

    answers = [client.get("Users", **headers), client.post("Users", {"userName": "x@example.org"}, **headers)]

    assert [(a.status, a.headers["Content-Type"], a.body, a.headers["WWW-Authenticate"]) for a in answers] == [
        (401, "application/scim+json", expected, challenge)
    ] * 2


def test_a_revoked_token_is_refused_at_once(okta, okta_token, persona_user):
    from plnorg.provisioning.services.tokens import scim_token_revoke

    assert okta.get("Users?count=1").status == 200
    scim_token_revoke(token=okta_token[0], actor=persona_user("admin"))

    assert (okta.get("Users?count=1").status, okta.get("Users?count=1").body) == (401, BAD_TOKEN)


def test_a_signed_in_admin_without_a_token_is_refused(client_as):
    """The session is not a credential here: the SCIM API is CSRF-exempt because of that."""
    answer = client_as("admin").get("/scim/v2/Users")

    assert (answer.status_code, answer.json()) == (401, NO_TOKEN)


def test_the_api_takes_no_csrf_token_but_needs_the_bearer(okta):
    strict = Client(enforce_csrf_checks=True)

    created = strict.post(
        "/scim/v2/Users",
        data='{"userName": "csrf@example.org"}',
        content_type="application/scim+json",
        HTTP_AUTHORIZATION=f"Bearer {okta.secret}",
    )

    assert (created.status_code, created.json()["userName"]) == (201, "csrf@example.org")


def test_wrong_tokens_are_limited_per_address_and_then_even_a_good_one_waits(okta):
    wrong = ScimClient("scim_guess")
    answers = [wrong.get("Users").status for _ in range(FAILED_AUTH_LIMIT)]

    limited = wrong.get("Users")
    good_from_there = okta.get("Users?count=1")
    good_from_elsewhere = okta.client.get(
        "/scim/v2/Users?count=1", HTTP_AUTHORIZATION=f"Bearer {okta.secret}", REMOTE_ADDR="10.9.9.9"
    )

    assert answers == [401] * FAILED_AUTH_LIMIT
    assert (limited.status, limited.body, limited.headers["Retry-After"]) == (
        429,
        error(429, "Too many requests with a wrong token from this address; try again later."),
        "300",
    )
    assert (good_from_there.status, good_from_there.body["status"]) == (429, "429")
    assert good_from_elsewhere.status_code == 200


def test_a_missing_header_does_not_count_as_a_wrong_token():
    client = ScimClient(None)

    answers = [client.get("Users").status for _ in range(FAILED_AUTH_LIMIT + 2)]

    assert answers == [401] * (FAILED_AUTH_LIMIT + 2)


def test_tokens_are_stored_as_a_digest_and_their_use_is_noted(okta, okta_token):
    token, secret = okta_token

    okta.get("Users?count=1")

    token.refresh_from_db()
    assert secret.startswith("scim_") and len(secret) == 48
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.hint == secret[:9]
    assert secret not in str(ScimToken.objects.filter(pk=token.pk).values().get())
    assert token.last_used_at is not None


def test_the_command_prints_a_new_token_once_and_audits_it():
    out = StringIO()

    call_command("scim_token", "Microsoft  Entra ID", stdout=out)

    lines = out.getvalue().splitlines()
    token = ScimToken.objects.get(name="Microsoft Entra ID")
    assert lines[0] == "SCIM token for Microsoft Entra ID (shown only now; plnorg keeps only its hash):"
    assert hashlib.sha256(lines[1].encode()).hexdigest() == token.token_hash
    assert lines[2:] == [
        "SCIM base URL: https://plnorg.example.com/scim/v2",
        "Revoke it in the Django admin: Provisioning (SCIM) > SCIM tokens.",
    ]
    event = AuditEvent.objects.get(action="provisioning.token_created", object_id=str(token.pk))
    assert (event.actor_email, event.after) == ("manage.py scim_token", {"name": "Microsoft Entra ID"})
    assert ScimClient(lines[1]).get("Users?count=1").status == 200


def test_the_command_refuses_a_second_usable_token_with_the_same_name(okta_token):
    with pytest.raises(CommandError) as refused:
        call_command("scim_token", "Okta", stdout=StringIO())

    assert str(refused.value) == (
        "A token named 'Okta' is in use. Revoke it in the admin first, or give the new one another name."
    )
    with pytest.raises(CommandError, match="a name of 1 to 100 characters"):
        call_command("scim_token", "  ", stdout=StringIO())


def test_an_admin_revokes_a_token_in_the_admin_and_the_name_is_free_again(okta, okta_token, client_as, persona_user):
    token = okta_token[0]
    admin = client_as("admin")

    page = admin.get(reverse("admin:provisioning_scimtoken_changelist"))
    response = admin.post(
        reverse("admin:provisioning_scimtoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )

    assert "Okta" in text_of(page) and f"{token.hint}…" in text_of(page)
    assert okta.secret not in page.content.decode()
    assert "1 token revoked." in text_of(response)
    token.refresh_from_db()
    assert (token.revoked_at is not None, token.revoked_by) == (True, persona_user("admin"))
    event = AuditEvent.objects.get(action="provisioning.token_revoked")
    assert (event.actor_email, event.object_repr) == ("admin@example.com", "Okta")
    assert okta.get("Users").status == 401
    _again, secret = scim_token_create(name="Okta")
    assert ScimClient(secret).post("Users", {"schemas": [USER], "userName": "new@example.org"}).status == 201
