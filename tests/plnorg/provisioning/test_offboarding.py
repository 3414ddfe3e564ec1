"""What `active: false` from the identity provider does to the member, through
plnorg's own offboarding: no sign-in (password or SSO), sessions ended (their
rows deleted), secret feed and calendar addresses dead, nothing of theirs
offered or shown as active; and `active: true` undoing it as the admin's
reactivation does."""

import pytest
from allauth.socialaccount.models import SocialApp
from django.contrib.sessions.models import Session
from django.contrib.sites.models import Site
from django.test import Client
from django.urls import reverse

from feeds.curation import feed_token_get
from feeds.models import Subscription
from members.models import Team, User
from tests.factories import EntryFactory, MemberFactory, SubscriptionFactory, TeamFactory
from tests.members.test_sso import CLIENT_ID, CLIENT_SECRET, IdentityProvider, claims_for, sso_login
from tests.pages import text_of
from workshops.models import CalendarFeed

from .conftest import PATCH_OP

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


def _active(value) -> dict:
    """Entra ID's form: a capitalised op, the boolean as a string."""
    return {"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": value}]}


def _session_users() -> list[str]:
    return sorted(str(s.get_decoded().get("_auth_user_id")) for s in Session.objects.all())


def _scim_id(client, email: str) -> str:
    found = client.get(f'Users?filter=userName eq "{email}"').body
    assert found["totalResults"] == 1
    return found["Resources"][0]["id"]


@pytest.fixture
def leaver():
    member = MemberFactory(user__email="lea@example.org", display_name="Lea Leaverton")
    subscription = SubscriptionFactory(member=member, is_shared=True)
    EntryFactory(feed=subscription.feed, title="Notes only Lea shares")
    return member


def test_deactivating_ends_sign_in_sessions_tokens_and_visibility(
    entra, leaver, client_as, django_capture_on_commit_callbacks
):
    managed = TeamFactory(manager=leaver.user)
    by_password, forced = Client(), Client()
    assert by_password.login(email="lea@example.org", password=PASSWORD)
    forced.force_login(leaver.user)
    colleague = client_as("employee")
    feed_token = feed_token_get(member=leaver).token
    calendar = CalendarFeed.objects.create(member=leaver)
    addresses = [
        reverse("feeds:atom_stream", kwargs={"token": feed_token}),
        reverse("feeds:atom_picks", kwargs={"token": feed_token}),
        reverse("workshops:calendar_feed", kwargs={"token": calendar.token}),
    ]
    option = f'<option value="{leaver.pk}">Lea Leaverton</option>'
    before = colleague.get(reverse("feeds:stream")).content.decode()  # also caches the filter choices
    assert option in before and "Notes only Lea shares" in before
    assert [Client().get(a).status_code for a in addresses] == [200, 200, 200]
    assert _session_users().count(str(leaver.user_id)) == 2
    colleague_sessions = _session_users().count(str(colleague.session["_auth_user_id"]))

    with django_capture_on_commit_callbacks(execute=True):  # as the request's commit would
        answer = entra.patch(f"Users/{_scim_id(entra, 'lea@example.org')}", _active("False"))

    assert (answer.status, answer.body["active"]) == (200, False)
    # Sign-in refused, sessions gone (the rows, not only their use).
    assert str(leaver.user_id) not in _session_users()
    assert _session_users().count(str(colleague.session["_auth_user_id"])) == colleague_sessions
    assert by_password.get(reverse("feeds:my_pln"))["Location"].startswith(reverse("account_login"))
    assert forced.get(reverse("feeds:my_pln"))["Location"].startswith(reverse("account_login"))
    assert Client().login(email="lea@example.org", password=PASSWORD) is False
    form = Client().post(reverse("account_login"), {"login": "lea@example.org", "password": PASSWORD})
    assert "_auth_user_id" not in form.wsgi_request.session
    # Secret addresses (the Atom feeds' token, the calendar token) dead.
    assert [Client().get(a).status_code for a in addresses] == [404, 404, 404]
    # Nothing of theirs offered or shown as active.
    after = colleague.get(reverse("feeds:stream")).content.decode()
    assert option not in after
    assert "Notes only Lea shares" not in after
    assert colleague.get(reverse("feeds:profile", kwargs={"member_id": leaver.pk})).status_code == 404
    assert "Lea Leaverton" not in text_of(client_as("admin").get(reverse("offboarding")))
    # The data rules of offboarding: the team they managed waits for an admin, their data stays.
    assert Team.objects.get(pk=managed.pk).manager is None
    assert Subscription.objects.filter(member=leaver).count() == 1
    assert User.objects.filter(pk=leaver.user_id, member__display_name="Lea Leaverton").exists()


def test_deactivated_member_cannot_sign_in_with_sso(entra):
    with IdentityProvider() as idp:
        app = SocialApp.objects.create(
            provider="openid_connect",
            provider_id="corp",
            name="Company SSO",
            client_id=CLIENT_ID,
            secret=CLIENT_SECRET,
            settings={"server_url": idp.base_url},
        )
        app.sites.add(Site.objects.get_current())
        first = Client()
        assert sso_login(first, idp, claims_for("grace@example.com"))["Location"] == reverse("home")

        entra.patch(f"Users/{_scim_id(entra, 'grace@example.com')}", _active(False))

        again = Client()
        refused = sso_login(again, idp, claims_for("grace@example.com"))
        assert refused.status_code == 403
        assert "This account is inactive." in text_of(refused)
        assert "_auth_user_id" not in again.session
        assert first.get(reverse("feeds:my_pln"))["Location"].startswith(reverse("account_login"))


def test_reactivating_lets_them_back_in_as_the_admin_reactivation_does(entra, leaver, client_as):
    scim_id = _scim_id(entra, "lea@example.org")
    feed_token = feed_token_get(member=leaver).token
    entra.patch(f"Users/{scim_id}", _active("False"))

    answer = entra.patch(f"Users/{scim_id}", _active("True"))

    assert (answer.status, answer.body["active"]) == (200, True)
    assert Client().login(email="lea@example.org", password=PASSWORD) is True
    assert Client().get(reverse("feeds:atom_stream", kwargs={"token": feed_token})).status_code == 200
    assert client_as("employee").get(reverse("feeds:profile", kwargs={"member_id": leaver.pk})).status_code == 200


def test_deactivating_kills_the_reading_apps_passwords(entra, leaver):
    """The reader's app passwords (and the Google Reader API tokens made from
    them) stop working, and offboarding revokes them."""
    from feeds.reader.models import AppPassword
    from feeds.reader.services.app_passwords import app_password_create

    made = app_password_create(member=leaver, name="Reeder")
    sign_in = reverse("reader:greader_client_login")
    credentials = {"Email": "lea@example.org", "Passwd": made.password}
    signed_in = Client().post(sign_in, credentials)
    auth = dict(line.split("=", 1) for line in signed_in.content.decode().splitlines())["Auth"]
    user_info = reverse("reader:greader_user_info")
    assert Client().get(user_info, HTTP_AUTHORIZATION=f"GoogleLogin auth={auth}").status_code == 200

    entra.patch(f"Users/{_scim_id(entra, 'lea@example.org')}", _active("False"))

    refused = Client().post(sign_in, credentials)
    assert (refused.status_code, refused.content.decode()) == (401, "Error=BadAuthentication\n")
    assert Client().get(user_info, HTTP_AUTHORIZATION=f"GoogleLogin auth={auth}").status_code == 401
    assert AppPassword.objects.get(pk=made.app_password.pk).revoked_at is not None


def test_deactivating_runs_every_offboarding_part_an_app_registers(entra, leaver, monkeypatch):
    """What other apps keep for a member (credentials, seats) ends through the
    app's part in core.lifecycle, which SCIM's deactivation runs like an
    admin's offboarding."""
    from core import lifecycle

    ended = []
    part = ("a later app", lambda *, member, actor, replacement: ended.append((member.pk, actor, replacement)))
    monkeypatch.setattr(lifecycle, "OFFBOARDING", [*lifecycle.OFFBOARDING, part])

    entra.patch(f"Users/{_scim_id(entra, 'lea@example.org')}", _active("False"))

    assert ended == [(leaver.pk, None, None)]
