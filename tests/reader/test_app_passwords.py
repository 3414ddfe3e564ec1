"""App passwords: the Reading apps page, hashes only, audit, the command,
revoking, offboarding, export and deletion."""

import hashlib
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from feeds.reader.models import AppPassword, ReadMark, ReadMarker
from feeds.reader.services.app_passwords import PER_MEMBER_MAX, app_password_create
from members.models import AuditEvent
from plnorg.privacy.services import member_account_delete, member_offboard
from tests.pages import parse_page, text_of
from tests.reader.clients import Fever, GoogleReader
from tests.reader.conftest import signed_in

pytestmark = pytest.mark.django_db


def test_the_reading_apps_page_shows_addresses_and_set_up_steps(world):
    response = signed_in(world["dora"]).get(reverse("reader:reading_apps"))

    text = text_of(response)
    assert "Google Reader API (apps call it “FreshRSS” or “Google Reader”) http://127.0.0.1:8000/api/greader/" in text
    assert "Fever API http://127.0.0.1:8000/api/fever/" in text
    assert "User name dora@example.org" in text
    assert "Set up NetNewsWire (Mac, iPhone, iPad)" in text and "Set up Read You (Android)" in text
    assert "API URL: http://127.0.0.1:8000/api/greader/" in text
    assert "Server address: http://127.0.0.1:8000/api/fever/" in text
    assert "No app passwords yet." in text


def test_a_new_app_password_is_shown_once_and_only_hashes_are_kept(world):
    client = signed_in(world["dora"])

    response = client.post(reverse("reader:reading_apps"), {"name": "  NetNewsWire   on my laptop "})

    body = response.content.decode()
    [password] = [line.strip() for line in body.split('id="new-password">')[1:2]]
    password = password.split("<")[0]
    stored = AppPassword.objects.get(member=world["dora"])
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert stored.name == "NetNewsWire on my laptop"
    assert len(password) == 29 and password.count("-") == 5
    assert stored.secret_hash == hashlib.sha256(password.encode()).hexdigest()
    fever_key = hashlib.md5(f"dora@example.org:{password}".encode()).hexdigest()
    assert stored.fever_key_hash == hashlib.sha256(fever_key.encode()).hexdigest()
    assert password not in "".join(str(v) for v in AppPassword.objects.values_list().get())
    again = client.get(reverse("reader:reading_apps"))
    assert password not in again.content.decode()
    assert "NetNewsWire on my laptop · made" in text_of(again) and "never used" in text_of(again)
    event = AuditEvent.objects.get(action="reader.app_password_created")
    assert (event.actor_id, event.object_id, event.after) == (
        world["dora"].user_id,
        str(stored.pk),
        {"name": "NetNewsWire on my laptop", "member": "dora@example.org"},
    )


def test_a_name_is_required_and_nothing_is_made_without_one(world):
    response = signed_in(world["dora"]).post(reverse("reader:reading_apps"), {"name": "   "})

    assert response.status_code == 400
    assert "This field is required." in text_of(response) or "Give it a name" in text_of(response)
    assert not AppPassword.objects.exists()


def test_at_most_twenty_at_once(world):
    for n in range(PER_MEMBER_MAX):
        app_password_create(member=world["dora"], name=f"App {n}")

    response = signed_in(world["dora"]).post(reverse("reader:reading_apps"), {"name": "One more"})

    assert response.status_code == 400
    assert "You have 20 app passwords already: revoke one you no longer use first." in text_of(response)
    assert AppPassword.objects.filter(member=world["dora"]).count() == PER_MEMBER_MAX


def test_last_used_is_shown_and_revoking_signs_the_app_out(world):
    made = app_password_create(member=world["dora"], name="Reeder")
    reader = GoogleReader()
    reader.client_login("dora@example.org", made.password)
    client = signed_in(world["dora"])
    listed = parse_page(client.get(reverse("reader:reading_apps")))
    [revoke] = [f for f in listed.forms if f["action"].endswith("/revoke/")]

    response = client.post(revoke["action"])

    assert AppPassword.objects.get(pk=made.app_password.pk).last_used_at is not None
    assert response["Location"] == reverse("reader:reading_apps")
    page = text_of(client.get(response["Location"]))
    assert "Revoked “Reeder”: apps using it are signed out." in page
    assert "Reeder revoked" in page
    assert reader.get("reader/api/0/user-info").status_code == 401
    assert Fever("dora@example.org", made.password).call().status_code == 401
    event = AuditEvent.objects.get(action="reader.app_password_revoked")
    assert event.after == {"name": "Reeder", "member": "dora@example.org", "reason": "member"}


def test_another_members_app_password_cannot_be_revoked(world):
    made = app_password_create(member=world["ana"], name="Ana's app")

    response = signed_in(world["dora"]).post(
        reverse("reader:app_password_revoke", kwargs={"app_password_id": made.app_password.pk})
    )

    assert response.status_code == 404
    assert AppPassword.objects.get(pk=made.app_password.pk).revoked_at is None


def test_the_command_makes_one_and_prints_it_once(world):
    out = io.StringIO()

    call_command("app_password", "Dora@example.org", "Script", stdout=out)

    lines = out.getvalue().splitlines()
    password = lines[0].rsplit(": ", 1)[1]
    assert lines[0] == f"app password for dora@example.org (Script): {password}"
    assert lines[1] == "Fever api_key: " + hashlib.md5(f"dora@example.org:{password}".encode()).hexdigest()
    assert lines[2:] == [
        "Google Reader API: http://127.0.0.1:8000/api/greader/",
        "Fever API: http://127.0.0.1:8000/api/fever/",
        "It is shown only this once.",
    ]
    assert GoogleReader().client_login("dora@example.org", password).status_code == 200
    event = AuditEvent.objects.get(action="reader.app_password_created")
    assert (event.actor_id, event.actor_email) == (None, "")


def test_the_command_refuses_an_unknown_member(world):
    with pytest.raises(CommandError, match="No member with the email address nobody@example.org."):
        call_command("app_password", "nobody@example.org", "Script")


def test_offboarding_revokes_every_app_password(world):
    made = app_password_create(member=world["dora"], name="Reeder")

    member_offboard(member=world["dora"], actor=None)

    assert AppPassword.objects.get(pk=made.app_password.pk).revoked_at is not None
    assert AuditEvent.objects.get(action="reader.app_password_revoked").after["reason"] == "offboarding"


def test_export_lists_read_state_and_app_passwords_without_secrets(world):
    client = signed_in(world["dora"])
    made = app_password_create(member=world["dora"], name="Reeder")
    client.post(reverse("reader:entry_read", kwargs={"entry_id": world["toot1"].pk}), {"read": "1"})

    data = json.loads(client.get(reverse("my_data_download")).content)

    found = json.dumps(data)
    assert data["reader"]["app_passwords"] == [
        {
            "name": "Reeder",
            "created_at": made.app_password.created_at.isoformat(),
            "last_used_at": None,
            "revoked_at": None,
        }
    ]
    assert data["reader"]["read_state"]["exceptions"] == [
        {
            "title": "Hello from the meetup",
            "link": world["toot1"].link,
            "state": "read",
            "marked_at": ReadMark.objects.get(member=world["dora"]).marked_at.isoformat(),
        }
    ]
    assert made.app_password.secret_hash not in found and made.password not in found


def test_deleting_the_account_deletes_read_state_and_app_passwords(world):
    client = signed_in(world["dora"])
    app_password_create(member=world["dora"], name="Reeder")
    client.post(reverse("reader:entry_read", kwargs={"entry_id": world["toot1"].pk}), {"read": "1"})
    member_pk = world["dora"].pk

    member_account_delete(member=world["dora"])

    assert not AppPassword.objects.filter(member_id=member_pk).exists()
    assert not ReadMark.objects.filter(member_id=member_pk).exists()
    assert not ReadMarker.objects.filter(member_id=member_pk).exists()


# --- The Django admin --------------------------------------------------------------------------------


def test_admins_browse_app_passwords_without_their_hashes_and_revoke_them(world, client_as):
    made = app_password_create(member=world["dora"], name="Reeder")
    admin = client_as("admin")
    changelist = reverse("admin:reader_apppassword_changelist")

    listing = admin.get(changelist)
    page = admin.get(reverse("admin:reader_apppassword_change", args=[made.app_password.pk]))
    add = admin.get(reverse("admin:reader_apppassword_add"))
    revoked = admin.post(changelist, {"action": "revoke", "_selected_action": [made.app_password.pk]}, follow=True)

    assert listing.status_code == page.status_code == 200
    assert "Reeder" in text_of(listing)
    for response in (listing, page):
        assert made.app_password.secret_hash not in response.text
        assert made.app_password.fever_key_hash not in response.text
    assert add.status_code == 403
    assert "Revoked 1 app password." in text_of(revoked)
    assert AppPassword.objects.get(pk=made.app_password.pk).revoked_at is not None
    event = AuditEvent.objects.get(action="reader.app_password_revoked")
    assert (event.actor_email, event.after["reason"]) == ("admin@example.com", "admin")


def test_admins_browse_read_markers(world, client_as):
    signed_in(world["dora"]).post(reverse("reader:mark_all_read"), {"newest": "1"})

    listing = client_as("admin").get(reverse("admin:reader_readmarker_changelist"), {"q": "dora@example.org"})

    assert listing.status_code == 200
    assert "Dora" in text_of(listing)
