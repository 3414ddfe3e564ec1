"""Offboarding, a member's data download and account deletion across apps."""

import json

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.urls import reverse

from core import lifecycle
from feeds.models import Feed, Subscription
from members.models import Member, Team, User
from plnorg.privacy.services import member_account_delete, member_offboard
from tests.factories import FeedFactory, MemberFactory, SubscriptionFactory, TeamFactory
from tests.pages import text_of

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


def test_every_model_pointing_at_a_person_is_registered_or_exempt():
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    covered = {label for part in lifecycle.DATA_PARTS for label in part.models} | set(lifecycle.EXEMPT_MODELS)
    missing = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if field.is_relation and field.concrete and field.related_model in (user_model, Member):
                if model._meta.label not in covered:
                    missing.append(f"{model._meta.label}.{field.name}")
    assert missing == [], "Add these to a DataPart or to EXEMPT_MODELS (with the reason): " + ", ".join(missing)


def test_offboarding_blocks_password_login_and_hands_over_the_team():
    leaver = MemberFactory(user__email="leaver@example.org")
    successor = MemberFactory()
    team = TeamFactory(manager=leaver.user)
    session = Client()
    session.force_login(leaver.user)

    member_offboard(member=leaver, actor=None, replacement=successor)

    leaver.user.refresh_from_db()
    team.refresh_from_db()
    assert leaver.user.is_active is False
    assert team.manager == successor.user
    assert Client().login(email="leaver@example.org", password=PASSWORD) is False
    # An open session stops working at the next request.
    assert session.get(reverse("feeds:my_pln"))["Location"].startswith(reverse("account_login"))


def test_offboarding_stops_subscriptions_counting():
    leaver = MemberFactory()
    SubscriptionFactory(member=leaver, is_shared=True)

    member_offboard(member=leaver, actor=None)

    assert not Subscription.objects.shared().filter(member=leaver).exists()
    assert not Subscription.objects.active().filter(member=leaver).exists()


def test_password_sign_in_form_refuses_a_deactivated_member():
    leaver = MemberFactory(user__email="gone@example.org")
    member_offboard(member=leaver, actor=None)

    response = Client().post(reverse("account_login"), {"login": "gone@example.org", "password": PASSWORD})

    assert "_auth_user_id" not in response.wsgi_request.session


def test_admin_offboarding_page_deactivates_with_a_replacement(client_as):
    leaver = MemberFactory(display_name="Lea Leaver")
    successor = MemberFactory()
    team = TeamFactory(manager=leaver.user)
    admin = client_as("admin")

    page = admin.get(reverse("offboard", kwargs={"member_id": leaver.pk}))
    admin.post(reverse("offboard", kwargs={"member_id": leaver.pk}), {"replacement": successor.pk})

    team.refresh_from_db()
    assert team.name in text_of(page)
    assert team.manager_id == successor.user_id
    assert User.objects.get(pk=leaver.user_id).is_active is False


def test_data_download_holds_profile_and_subscriptions():
    member = MemberFactory(display_name="Dee Data", user__email="dee@example.org", digest="weekly")
    SubscriptionFactory(member=member, feed=FeedFactory(url="https://dee.example/feed", title="Dee"), kind="account")
    client = Client()
    client.force_login(member.user)

    response = client.get(reverse("my_data_download"))

    data = json.loads(response.content)
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert data["members"]["account"]["email"] == "dee@example.org"
    assert data["members"]["profile"]["display_name"] == "Dee Data"
    assert data["members"]["profile"]["digest"] == "weekly"
    assert [(s["feed_url"], s["kind"]) for s in data["feeds"]["subscriptions"]] == [
        ("https://dee.example/feed", "account")
    ]


def test_account_deletion_needs_the_email_typed_and_keeps_shared_feeds():
    member = MemberFactory(user__email="del@example.org")
    shared_feed = FeedFactory()
    SubscriptionFactory(member=member, feed=shared_feed)
    other = SubscriptionFactory(feed=shared_feed)
    own_feed = SubscriptionFactory(member=member).feed
    client = Client()
    client.force_login(member.user)

    wrong = client.post(reverse("account_delete"), {"email": "someone@example.org"})
    assert "That is not your email address; nothing was deleted." in text_of(wrong)
    assert User.objects.filter(email="del@example.org").exists()

    done = client.post(reverse("account_delete"), {"email": "DEL@example.org"}, follow=True)

    assert "Your account and your data are deleted." in text_of(done)
    assert not User.objects.filter(email="del@example.org").exists()
    assert not Member.objects.filter(pk=member.pk).exists()
    assert Feed.objects.filter(pk=shared_feed.pk).exists()
    assert Subscription.objects.filter(pk=other.pk).exists()
    assert not Feed.objects.filter(pk=own_feed.pk).exists()


def test_deleting_a_manager_leaves_the_team_without_manager():
    manager = MemberFactory()
    team = TeamFactory(manager=manager.user)

    member_account_delete(member=manager)

    assert Team.objects.get(pk=team.pk).manager is None
