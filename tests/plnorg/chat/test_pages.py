"""The channel pages: adding and editing each kind, a private address refused
at save time with a clear form error (nothing saved), secrets never shown
again (page, form, admin, audit log, logs), the test-message button with
the channel's last delivery and error, and who may manage which channel."""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from django.urls import reverse

from members.models import AuditEvent, User
from plnorg.chat.encryption import secret_unseal
from plnorg.chat.models import Channel, Delivery
from tests.pages import text_of
from tests.plnorg.chat.conftest import MATRIX_ROOM, MATRIX_TOKEN
from tests.plnorg.chat.factories import channel_make
from tests.plnorg.chat.servers import Reply
from tests.workshops.factories import WorkshopFactory

pytestmark = pytest.mark.django_db

PUBLIC_IP = "93.184.215.14"


def _form(**fields) -> dict:
    data = {
        "name": "#learning",
        "kind": "slack",
        "workshop": "",
        "webhook_url": "",
        "matrix_homeserver": "",
        "matrix_room_id": "",
        "matrix_access_token": "",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not False}


@pytest.fixture
def admin_client(client_as):
    return client_as("admin")


@pytest.fixture
def facilitator_client(facilitator):
    client = Client()
    client.force_login(facilitator.user)
    return client


def _errors(response) -> dict[str, list[str]]:
    return {name: list(errors) for name, errors in response.context["form"].errors.items()}


def test_an_admin_adds_a_slack_channel_and_its_address_is_never_shown_again(admin_client, receiver):
    hook = receiver()

    response = admin_client.post(
        reverse("chat:channel_new"), _form(webhook_url=hook.url, receives_picks="on", receives_digest="on")
    )

    channel = Channel.objects.get(name="#learning")
    assert response.status_code == 302 and response["Location"] == reverse("chat:channel_detail", args=[channel.pk])
    assert (channel.kind, channel.workshop, channel.webhook_host) == ("slack", None, "127.0.0.1")
    assert (channel.receives_picks, channel.receives_digest, channel.receives_workshops) == (True, True, False)
    assert channel.created_by == User.objects.get(email="admin@example.com")
    assert hook.path not in channel.webhook_url_sealed  # encrypted at rest
    assert secret_unseal(channel.webhook_url_sealed) == hook.url
    page = admin_client.get(response["Location"])
    edit = admin_client.get(reverse("chat:channel_edit", args=[channel.pk]))
    listing = admin_client.get(reverse("chat:channels"))
    admin_list = admin_client.get(reverse("admin:chat_channel_changelist"))
    admin_page = admin_client.get(reverse("admin:chat_channel_change", args=[channel.pk]))
    audit = AuditEvent.objects.get(action="chat.channel_saved", object_id=str(channel.pk))
    for shown in (page, edit, listing, admin_list, admin_page):
        assert shown.status_code == 200
        assert hook.path not in shown.text and "s3cr3t" not in shown.text
        assert channel.webhook_url_sealed not in shown.text
    assert "s3cr3t" not in str(audit.after) and audit.after["secret"] == "changed"
    assert "Webhook An address at 127.0.0.1, saved (never shown again)" in text_of(page)
    assert "Receives picks as they are made; a weekly digest of picks and rising topics" in text_of(page)
    assert "Saved — enter a new one to replace it." in text_of(edit)
    assert 'name="webhook_url" autocomplete="off" spellcheck="false"' in edit.text
    assert "saved (never shown)" in text_of(admin_page)


def test_editing_without_a_new_address_keeps_the_saved_one_and_a_new_one_replaces_it(admin_client, receiver):
    first, second = receiver(), receiver("127.0.0.2")
    channel = channel_make(name="#ops", url=first.url, receives_picks=True)
    sealed = channel.webhook_url_sealed

    admin_client.post(reverse("chat:channel_edit", args=[channel.pk]), _form(name="#ops-renamed", receives_picks="on"))
    channel.refresh_from_db()
    assert (channel.name, channel.webhook_url_sealed) == ("#ops-renamed", sealed)

    admin_client.post(
        reverse("chat:channel_edit", args=[channel.pk]), _form(name="#ops", webhook_url=second.url, receives_picks="on")
    )
    channel.refresh_from_db()
    assert secret_unseal(channel.webhook_url_sealed) == second.url
    assert channel.webhook_host == "127.0.0.2"


@pytest.mark.parametrize(
    ("url", "error"),
    [
        (
            "http://127.0.0.1:8000/hooks/x",
            "plnorg cannot post to that address. That address points back to the server plnorg runs on "
            "(a loopback address), so plnorg will not fetch it.",
        ),
        (
            "https://10.0.0.5/hooks/x",
            "plnorg cannot post to that address. That address is inside a private network, so plnorg will not fetch it.",
        ),
        (
            "http://169.254.169.254/latest/meta-data/",
            "plnorg cannot post to that address. That address is a link-local address, used only inside a local "
            "network or for cloud server settings, so plnorg will not fetch it.",
        ),
        (
            "https://hooks.internal.example/services/x",
            "plnorg cannot post to that address. That address is inside a private network, so plnorg will not fetch it.",
        ),
        (
            "ftp://hooks.example.com/x",
            "plnorg cannot post to that address. plnorg only fetches addresses that start with http:// or https://.",
        ),
        (
            "http://hooks.public.example/services/x",
            "Use an https:// address: what plnorg sends there must not travel unencrypted.",
        ),
    ],
)
def test_a_webhook_address_plnorg_must_not_post_to_is_refused_at_save_time(admin_client, fake_dns, url, error):
    fake_dns["hooks.internal.example"] = ["192.168.1.20"]
    fake_dns["hooks.public.example"] = [PUBLIC_IP]
    before = Channel.objects.count()

    response = admin_client.post(reverse("chat:channel_new"), _form(webhook_url=url, receives_picks="on"))

    assert response.status_code == 200
    assert _errors(response) == {"webhook_url": [error]}
    assert error in text_of(response)
    assert url not in response.text  # the secret is not echoed back
    assert Channel.objects.count() == before


def test_a_public_https_address_is_accepted(admin_client, fake_dns):
    fake_dns["hooks.slack.example"] = [PUBLIC_IP]

    response = admin_client.post(
        reverse("chat:channel_new"),
        _form(name="#public", webhook_url="https://hooks.slack.example/services/T1/B2/abc", receives_picks="on"),
    )

    assert response.status_code == 302
    assert Channel.objects.get(name="#public").webhook_host == "hooks.slack.example"


def test_a_matrix_channel_needs_a_room_id_and_a_token(admin_client, homeserver):
    url = reverse("chat:channel_new")
    matrix = {"kind": "matrix", "matrix_homeserver": homeserver.base_url, "receives_introductions": "on"}

    missing = admin_client.post(url, _form(name="#pln", **matrix, matrix_room_id="#pln:example.org"))
    saved = admin_client.post(
        url, _form(name="#pln", **matrix, matrix_room_id=MATRIX_ROOM, matrix_access_token=MATRIX_TOKEN)
    )

    assert _errors(missing) == {
        "matrix_room_id": [
            "Give the room's ID: it starts with “!”, e.g. !AbCdEf:example.org (in Element: the room's settings, "
            "Advanced). A room alias (#room:example.org) does not work here."
        ]
    }
    assert saved.status_code == 302
    channel = Channel.objects.get(name="#pln")
    assert (channel.matrix_homeserver, channel.matrix_room_id) == (homeserver.base_url, MATRIX_ROOM)
    assert secret_unseal(channel.matrix_access_token_sealed) == MATRIX_TOKEN
    page = admin_client.get(saved["Location"])
    assert MATRIX_TOKEN not in page.text and "Access token Saved (never shown again)" in text_of(page)
    no_token = admin_client.post(url, _form(name="#pln2", **matrix, matrix_room_id=MATRIX_ROOM))
    assert _errors(no_token) == {"matrix_access_token": ["Give the access token of the account that posts."]}


def test_nothing_to_receive_is_refused(admin_client, receiver):
    response = admin_client.post(reverse("chat:channel_new"), _form(webhook_url=receiver().url))

    assert response.context["form"].non_field_errors() == ["Choose at least one thing this channel receives."]
    assert not Channel.objects.filter(name="#learning").exists()


def test_the_test_button_sends_and_the_page_shows_the_last_delivery(admin_client, receiver):
    hook = receiver()
    channel = channel_make(name="#test-me", url=hook.url, receives_picks=True)

    response = admin_client.post(reverse("chat:channel_test", args=[channel.pk]), follow=True)

    channel.refresh_from_db()
    delivery = Delivery.objects.get(channel=channel, event="test")
    page = text_of(response)
    assert delivery.status == "sent" and channel.last_delivery_at == delivery.sent_at
    assert "Test message sent: it should be in the channel now." in page
    assert f"Last delivery {channel.last_delivery_at:%-d %b %Y, %H:%M:%S}" in page
    assert "Last error None" in page
    assert "Test message: Test message from plnorg Sent 1" in page
    assert hook.received[0].json["blocks"][0]["text"]["text"] == "Test message from plnorg"


def test_a_failing_test_shows_its_error_and_pauses_nothing(admin_client, receiver, settings):
    settings.CHAT_PAUSE_AFTER_FAILURES = 1
    hook = receiver()
    hook.default = Reply(403, b"invalid_token")
    channel = channel_make(name="#broken", url=hook.url, receives_picks=True)

    response = admin_client.post(reverse("chat:channel_test", args=[channel.pk]), follow=True)

    channel.refresh_from_db()
    page = text_of(response)
    assert "The test message failed: The server answered 403: invalid_token" in page
    assert f"Last error The server answered 403: invalid_token ({channel.last_error_at:%-d %b %Y, %H:%M:%S})" in page
    assert (channel.paused_at, channel.consecutive_failures) == (None, 0)


def test_a_secret_never_reaches_the_logs(admin_client, receiver, caplog, settings):
    caplog.set_level(logging.DEBUG)
    hook = receiver()
    hook.then(Reply(500, b"oops"))
    admin_client.post(reverse("chat:channel_new"), _form(webhook_url=hook.url, receives_picks="on"))
    channel = Channel.objects.get(name="#learning")
    admin_client.post(reverse("chat:channel_test", args=[channel.pk]))
    admin_client.post(reverse("chat:channel_test", args=[channel.pk]))

    assert [d.status for d in Delivery.objects.filter(channel=channel).order_by("pk")] == ["failed", "sent"]
    assert caplog.records  # the sends were logged ...
    assert "chat: delivery" in caplog.text
    assert hook.path not in caplog.text and "s3cr3t" not in caplog.text  # ... without the address


def test_paused_channels_resume_from_their_page(admin_client, receiver):
    channel = channel_make(name="#paused", url=receiver().url, receives_picks=True)

    paused = admin_client.post(reverse("chat:channel_pause", args=[channel.pk]), follow=True)
    channel.refresh_from_db()
    assert channel.paused_at is not None
    assert "Paused: messages wait until you resume the channel." in text_of(paused)

    resumed = admin_client.post(reverse("chat:channel_resume", args=[channel.pk]), follow=True)
    channel.refresh_from_db()
    assert channel.paused_at is None
    assert "Resumed: waiting messages go out within a minute." in text_of(resumed)
    actions = list(
        AuditEvent.objects.filter(object_id=str(channel.pk), object_type="chat.Channel").values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["chat.channel_paused", "chat.channel_resumed"]


def test_removing_a_channel(admin_client, receiver):
    channel = channel_make(name="#gone", url=receiver().url, receives_picks=True)

    confirm = admin_client.get(reverse("chat:channel_delete", args=[channel.pk]))
    removed = admin_client.post(reverse("chat:channel_delete", args=[channel.pk]), follow=True)

    assert "plnorg will no longer post to “#gone”" in text_of(confirm)
    assert "Channel removed. plnorg no longer posts there." in text_of(removed)
    assert not Channel.objects.filter(pk=channel.pk).exists()


# --- Facilitators ----------------------------------------------------------------------


def test_a_facilitator_adds_a_channel_for_a_workshop_they_facilitate(facilitator_client, facilitator, receiver):
    hook = receiver()
    mine = WorkshopFactory(title="Mine", facilitators=[facilitator.user])
    WorkshopFactory(title="Not mine")

    form = facilitator_client.get(reverse("chat:channel_new") + f"?workshop={mine.pk}")
    response = facilitator_client.post(
        reverse("chat:channel_new"),
        _form(
            name="Mine on Mattermost",
            kind="mattermost",
            workshop=str(mine.pk),
            webhook_url=hook.url,
            receives_workshops="on",
        ),
    )

    assert [str(w) for w in form.context["form"].fields["workshop"].queryset] == ["Mine"]
    assert form.context["form"]["workshop"].value() == mine.pk
    assert "receives_picks" not in form.context["form"].fields
    assert "this workshop's news: when it is published, its last seats" in text_of(form)
    assert response.status_code == 302
    channel = Channel.objects.get(name="Mine on Mattermost")
    assert (channel.workshop, channel.receives_workshops, channel.receives_picks) == (mine, True, False)


def test_a_facilitator_without_a_workshop_is_told_what_to_do_first(facilitator_client):
    page = text_of(facilitator_client.get(reverse("chat:channel_new")))

    assert "You facilitate no open workshop yet: a facilitator's channel belongs to one of their workshops." in page


def test_a_facilitator_cannot_add_a_channel_for_someone_elses_workshop(facilitator_client, receiver):
    other = WorkshopFactory(title="Not mine")

    response = facilitator_client.post(
        reverse("chat:channel_new"),
        _form(name="Sneaky", workshop=str(other.pk), webhook_url=receiver().url, receives_workshops="on"),
    )

    assert _errors(response) == {
        "workshop": ["Select a valid choice. That choice is not one of the available choices."]
    }
    assert not Channel.objects.filter(name="Sneaky").exists()


def test_a_facilitator_sees_only_the_channels_of_their_workshops(facilitator_client, facilitator, receiver):
    url = receiver().url
    mine = channel_make(
        name="Mine", url=url, workshop=WorkshopFactory(facilitators=[facilitator.user]), receives_workshops=True
    )
    theirs = channel_make(name="Theirs", url=url, workshop=WorkshopFactory(), receives_workshops=True)
    organization = channel_make(name="Everyone", url=url, receives_picks=True)

    listing = facilitator_client.get(reverse("chat:channels"))

    assert [c.name for c in listing.context["channels"]] == ["Mine"]
    assert facilitator_client.get(reverse("chat:channel_detail", args=[mine.pk])).status_code == 200
    for other in (theirs, organization):
        for name in ("chat:channel_detail", "chat:channel_edit", "chat:channel_delete"):
            assert facilitator_client.get(reverse(name, args=[other.pk])).status_code == 404
        assert facilitator_client.post(reverse("chat:channel_test", args=[other.pk])).status_code == 404
    assert Delivery.objects.filter(channel__in=[theirs, organization]).count() == 0


def test_members_without_a_role_are_refused(client_as):
    employee = client_as("employee")

    assert employee.get(reverse("chat:channels")).status_code == 403
    assert employee.get(reverse("chat:channel_new")).status_code == 403


def test_the_list_shows_every_channel_to_admins_with_its_state(admin_client, receiver):
    url = receiver().url
    channel_make(name="Zz failing", url=url, receives_picks=True, consecutive_failures=2)

    page = text_of(admin_client.get(reverse("chat:channels")))

    assert (
        "Zz failing Slack (incoming webhook) The whole organization picks as they are made 2 failures in a row" in page
    )
    assert "#learning on Slack (demo) Slack (incoming webhook) The whole organization" in page
    assert "Demo: never sent" in page


def test_the_list_query_count_does_not_grow_with_channels(admin_client, receiver):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = receiver().url

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(reverse("chat:channels")).status_code == 200
        return len(ctx)

    few = count()
    for n in range(5):
        channel_make(name=f"More {n}", url=url, workshop=WorkshopFactory(), receives_workshops=True)
    assert count() == few


def test_an_unsent_delivery_page_shows_waiting(admin_client, receiver):
    channel = channel_make(name="#waiting", url=receiver().url, receives_picks=True)
    Delivery.objects.create(channel=channel, event="digest", key="digest:x", params={})

    page = text_of(admin_client.get(reverse("chat:channel_detail", args=[channel.pk])))

    assert "Weekly digest Waiting 0 —" in page
