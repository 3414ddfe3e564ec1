"""Django admin for every model of plnorg's apps: each has a page (or is edited
inline in its parent's page), each list opens for an admin with rows in it,
read-only admins stay read-only, and secret tokens are never shown in full."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from members.admin import token_hint
from tests.factories import EntryFactory, MemberFactory

PROJECT_APPS = [
    "core",
    "members",
    "feeds",
    "websub",
    "workshops",
    "clock",
    "introductions",
    "chat",
    "dashboard",
    "privacy",
    "home",
    "provisioning",
    "plnorg",
]

# Models without a page of their own: each is edited inline in its parent's
# page, where it makes sense only as part of that parent. (Many-to-many
# tables Django creates itself are edited through their owner's form.)
INLINE_ONLY = {
    "feeds.StarterPackItem": "feeds.StarterPack",  # the sources of a pack, in order
    "workshops.WorkshopSession": "workshops.Workshop",  # the sessions of a series
    "workshops.WorkshopMaterial": "workshops.Workshop",  # the files and links of a workshop
    "workshops.RegistrationEvent": "workshops.Registration",  # the status history of a registration
    "workshops.CalendarInvitation": "workshops.Registration",  # what each calendar was last sent
}

# Admins that only browse: rows come from the site's workflows or periodic tasks.
VIEW_ONLY = [
    "feeds.SavedEntry",
    "feeds.Recommendation",
    "feeds.Report",
    "feeds.FeedToken",
    "websub.WebSubSubscription",
    "websub.WebSubPush",
    "members.Invitation",
    "workshops.CalendarFeed",
    "clock.ClockTimer",
    "dashboard.DashboardSnapshot",
    "introductions.IntroductionSuggestion",
    "introductions.ConnectorStatus",
    "introductions.IntroductionComputation",
    "provisioning.ScimToken",
    "provisioning.ScimUser",
    "provisioning.ScimGroup",
    "chat.Channel",
    "chat.Delivery",
]


def project_models():
    return [model for app in PROJECT_APPS for model in apps.get_app_config(app).get_models()]


REGISTERED = sorted(m._meta.label for m in project_models() if m in admin.site._registry)


def test_every_model_has_an_admin_page_or_an_inline():
    missing = [
        m._meta.label for m in project_models() if m not in admin.site._registry and m._meta.label not in INLINE_ONLY
    ]
    inlines = {
        child: [inline.model._meta.label for inline in admin.site._registry[apps.get_model(parent)].inlines]
        for child, parent in INLINE_ONLY.items()
    }

    assert missing == []
    assert {child: child in found for child, found in inlines.items()} == dict.fromkeys(INLINE_ONLY, True)


# --- One row of each model the demo organization may not have --------------------


def _feed_token():
    from feeds.curation import feed_token_get

    return feed_token_get(member=MemberFactory())


def _report():
    from feeds.models import Report
    from feeds.moderation import report_create

    return report_create(member=MemberFactory(), reason=Report.Reason.SPAM, note="Ads", entry=EntryFactory())


def _invitation():
    from members.services import invitation_send

    return invitation_send(email="invited-admin-test@example.com", actor=None, display_name="Ines")


def _calendar_feed():
    from workshops.models import CalendarFeed

    return CalendarFeed.objects.create(member=MemberFactory())


def _clock_timer():
    from workshops.clock.models import ClockTimer

    return ClockTimer.objects.create(member=MemberFactory(), started_at=timezone.now(), note="Reading")


def _pick():
    from tests.factories import PickFactory

    return PickFactory()


def _saved_entry():
    from tests.factories import SavedEntryFactory

    return SavedEntryFactory()


def _recommendation():
    from tests.factories import RecommendationFactory

    return RecommendationFactory()


def _starter_pack():
    from feeds.models import StarterPackItem
    from tests.factories import FeedFactory, StarterPackFactory

    pack = StarterPackFactory()
    StarterPackItem.objects.create(pack=pack, feed=FeedFactory(), position=0)
    return pack


def _fetch_log():
    from feeds.models import FetchLog
    from tests.factories import FeedFactory

    return FetchLog.objects.create(feed=FeedFactory(), outcome=FetchLog.Outcome.OK, http_status=200, new_entries=3)


def _audit_event():
    from members import audit

    return audit.audit_record(action=audit.AUDIT_EXPORTED, after={"rows": 0})


def _outbound_email():
    from members.outbox import email_enqueue

    return email_enqueue(
        to="someone@example.com", kind="test", subject="Hello", body_text="Hello.", idempotency_key="admin-test:1"
    )


def _heartbeat():
    from plnorg.models import Heartbeat

    return Heartbeat.objects.create(name="beat", beat_at=timezone.now())


def _clock_week_lock():
    from workshops.clock.models import ClockWeekLock

    return ClockWeekLock.objects.create(member=MemberFactory(), week_start=timezone.localdate())


def _websub_subscription():
    from feeds.websub.models import WebSubSubscription
    from tests.factories import FeedFactory

    return WebSubSubscription.objects.create(
        feed=FeedFactory(),
        hub_url="https://hub.example.org/",
        topic_url="https://blog.example.org/feed.xml",
        callback_token="admin-test-callback-token-0123456789abcdef",
        secret="admin-test-secret-0123456789abcdef",
    )


def _websub_push():
    from feeds.websub.models import WebSubPush

    return WebSubPush.objects.create(subscription=_websub_subscription(), body=b"<rss/>", content_type="text/xml")


def _scim_token():
    from plnorg.provisioning.services.tokens import scim_token_create

    return scim_token_create(name="Admin test IdP")[0]


def _scim_user():
    from plnorg.provisioning.models import ScimUser

    member = MemberFactory()
    return ScimUser.objects.create(user=member.user, user_name=member.user.email, external_id="ext-admin-test")


def _scim_group():
    from plnorg.provisioning.models import ScimGroup
    from tests.factories import TeamFactory

    return ScimGroup.objects.create(team=TeamFactory(), external_id="ext-admin-test")


BUILDERS = {
    "websub.WebSubSubscription": _websub_subscription,
    "websub.WebSubPush": _websub_push,
    "provisioning.ScimToken": _scim_token,
    "provisioning.ScimUser": _scim_user,
    "provisioning.ScimGroup": _scim_group,
    "feeds.FetchLog": _fetch_log,
    "members.AuditEvent": _audit_event,
    "members.OutboundEmail": _outbound_email,
    "plnorg.Heartbeat": _heartbeat,
    "clock.ClockWeekLock": _clock_week_lock,
    "feeds.FeedToken": _feed_token,
    "feeds.Report": _report,
    "members.Invitation": _invitation,
    "workshops.CalendarFeed": _calendar_feed,
    "clock.ClockTimer": _clock_timer,
    "feeds.Pick": _pick,
    "feeds.SavedEntry": _saved_entry,
    "feeds.Recommendation": _recommendation,
    "feeds.StarterPack": _starter_pack,
}


def a_row(label: str):
    model = apps.get_model(label)
    row = model._default_manager.order_by("pk").first()
    if row is None and label in BUILDERS:
        row = BUILDERS[label]()
    assert row is not None, f"no {label} row: add a builder to BUILDERS"
    return row


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.django_db
@pytest.mark.parametrize("label", REGISTERED)
def test_admin_list_and_page_open_with_a_row(label, client_as, persona_user):
    assert persona_user("admin").is_superuser
    client = client_as("admin")
    model = type(a_row(label))

    listing = client.get(admin_url(model, "changelist"))
    shown = list(listing.context["cl"].result_list)[0]
    page = client.get(admin_url(model, "change", shown.pk))

    assert listing.status_code == 200
    assert f'href="{admin_url(model, "change", shown.pk)}"' in listing.text
    assert page.status_code == 200
    assert page.context["original"] == shown


@pytest.mark.django_db
@pytest.mark.parametrize("label", VIEW_ONLY)
def test_view_only_admin_refuses_adding_and_changing(label, client_as):
    client = client_as("admin")
    row = a_row(label)
    model = type(row)
    before = model._default_manager.count()

    add = client.get(admin_url(model, "add"))
    change = client.post(admin_url(model, "change", row.pk), {})

    assert add.status_code == 403
    assert change.status_code == 403
    assert model._default_manager.count() == before
    assert 'name="_save"' not in client.get(admin_url(model, "change", row.pk)).text


@pytest.mark.django_db
@pytest.mark.parametrize("label", ["feeds.FeedToken", "members.Invitation", "workshops.CalendarFeed"])
def test_secret_tokens_are_never_shown_in_full(label, client_as):
    client = client_as("admin")
    row = BUILDERS[label]()
    model = type(row)
    assert len(row.token) >= 24

    pages = [
        client.get(admin_url(model, "changelist")),
        client.get(admin_url(model, "change", row.pk)),
        client.get(admin_url(model, "delete", row.pk)),
        client.get(admin_url(model, "history", row.pk)),
    ]

    assert [p.status_code for p in pages] == [200, 200, 200, 200]
    assert [row.token in p.text for p in pages] == [False, False, False, False]
    assert token_hint(row.token) in pages[1].text
    assert token_hint(row.token) == f"{row.token[:4]}…"


@pytest.mark.django_db
def test_deleting_a_feed_token_in_the_admin_revokes_the_feed_urls(client_as):
    from feeds.curation import feed_token_member
    from feeds.models import FeedToken

    row = _feed_token()
    assert feed_token_member(row.token) == row.member

    response = client_as("admin").post(admin_url(FeedToken, "delete", row.pk), {"post": "yes"})

    assert response.status_code == 302
    assert feed_token_member(row.token) is None


@pytest.mark.django_db
def test_starter_pack_page_lists_its_sources_inline(client_as):
    from feeds.models import StarterPack

    pack = _starter_pack()
    item = pack.items.get()

    page = client_as("admin").get(admin_url(StarterPack, "change", pack.pk))
    listing = client_as("admin").get(admin_url(StarterPack, "changelist"), {"q": pack.title})

    assert [form.instance for form in page.context["inline_admin_formsets"][0].formset.forms] == [item]
    assert list(listing.context["cl"].result_list) == [pack]
    assert listing.context["cl"].result_list[0].source_count == 1
