"""The demo's chat channels: one Slack and one Matrix channel of the
organization and a Mattermost channel of the facilitator's workshop, all
marked demo (shown, never sent to), and seeding again adds nothing."""

import pytest

from members.demo import demo_email
from members.models import Member
from plnorg.chat.demo import seed_chat
from plnorg.chat.encryption import secret_unseal
from plnorg.chat.models import Channel, Delivery

pytestmark = pytest.mark.django_db


def test_demo_channels():
    channels = {c.name: c for c in Channel.objects.filter(is_demo=True).select_related("workshop")}

    assert {name: (c.kind, c.workshop and c.workshop.title, c.receives) for name, c in channels.items()} == {
        "#learning on Slack (demo)": (
            "slack",
            None,
            [
                "picks as they are made",
                "a weekly digest of picks and rising topics",
                "new workshops and their last seats",
            ],
        ),
        "#pln on Matrix (demo)": (
            "matrix",
            None,
            ["a weekly digest of picks and rising topics", "the monthly count of introductions"],
        ),
        "Blogging to learn on Mattermost (demo)": (
            "mattermost",
            "Blogging to learn",
            ["this workshop's news: published, last seats"],
        ),
    }
    assert secret_unseal(channels["#pln on Matrix (demo)"].matrix_access_token_sealed) == "not-a-real-matrix-token"
    slack = channels["#learning on Slack (demo)"]
    assert list(slack.deliveries.order_by().values_list("event", "status").distinct()) == [("pick", "skipped")]
    assert slack.deliveries.count() == 3
    assert (
        channels["Blogging to learn on Mattermost (demo)"]
        .workshop.facilitators.filter(email=demo_email("facilitator"))
        .exists()
    )


def test_seeding_again_adds_nothing():
    before = (Channel.objects.count(), Delivery.objects.count())
    members = {m.user.email.split("@")[0]: m for m in Member.objects.select_related("user")}

    seed_chat({"admin": members["admin"], "facilitator": members["facilitator"]})

    assert (Channel.objects.count(), Delivery.objects.count()) == before
