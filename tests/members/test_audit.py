"""The audit log: each audited admin action writes exactly one record, and the
log cannot be changed through the site or the database."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.utils import InternalError
from django.urls import reverse

from members import audit
from members.models import AuditEvent, OrganizationSettings, Team, User
from tests.pages import parse_page, text_of

pytestmark = pytest.mark.django_db


def _admin_post_user(client, user, **changes):
    data = {
        "email": user.email,
        "is_active": "on" if changes.get("is_active", user.is_active) else "",
        "is_staff": "on" if changes.get("is_staff", user.is_staff) else "",
        "groups": [str(g.pk) for g in changes.get("groups", user.groups.all())],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    data = {k: v for k, v in data.items() if v != ""}
    return client.post(reverse("admin:members_user_change", args=[user.pk]), data, REMOTE_ADDR="10.1.2.3")


def test_granting_a_role_in_the_admin_writes_one_record(client_as, persona_user):
    admin_client = client_as("admin")
    employee = persona_user("employee")
    leaders = Group.objects.get(name="Leaders")

    response = _admin_post_user(admin_client, employee, groups=[leaders])

    assert response.status_code == 302
    events = list(AuditEvent.objects.filter(object_id=str(employee.pk)))
    assert [(e.action, e.actor_email, e.after, e.ip) for e in events] == [
        (audit.ROLE_GRANTED, "admin@example.com", {"group": "Leaders"}, "10.1.2.3")
    ]
    assert events[0].object_type == "members.User"
    assert events[0].object_repr == "employee@example.com"


def test_deactivating_in_the_admin_is_audited(client_as, persona_user):
    employee = persona_user("employee")
    _admin_post_user(client_as("admin"), employee, is_active=False)
    event = AuditEvent.objects.get(object_id=str(employee.pk))
    assert (event.action, event.before, event.after) == (
        audit.USER_DEACTIVATED,
        {"is_active": True},
        {"is_active": False},
    )


def test_changing_a_team_manager_is_audited(client_as):
    team = Team.objects.get(name="Design")
    new_manager = User.objects.get(email="gus@example.com")
    response = client_as("admin").post(
        reverse("admin:members_team_change", args=[team.pk]),
        {"name": "Design", "manager": new_manager.pk, "parent": team.parent_id},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action=audit.TEAM_MANAGER_CHANGED)
    assert (event.before, event.after) == ({"manager": "dora@example.com"}, {"manager": "gus@example.com"})


def test_analytics_switch_change_is_audited(client_as):
    OrganizationSettings.get()
    response = client_as("admin").post(
        reverse("admin:members_organizationsettings_change", args=[1]),
        {"signup_domains": "", "introduction_suggestions_enabled": "on", "network_figures_enabled": "on"},
    )
    assert response.status_code == 302
    events = list(AuditEvent.objects.filter(action=audit.ANALYTICS_SWITCH_CHANGED))
    assert [(e.before, e.after) for e in events] == [({"connectors_enabled": True}, {"connectors_enabled": False})]
    assert OrganizationSettings.get().connectors_enabled is False


def test_mfa_reset_is_audited(client_as, persona_user):
    from allauth.mfa.models import Authenticator

    leader = persona_user("leader")
    Authenticator.objects.create(user=leader, type=Authenticator.Type.TOTP, data={"secret": "x"})
    client_as("admin").post(
        reverse("admin:members_user_changelist"), {"action": "reset_mfa", "_selected_action": [leader.pk]}
    )
    assert not Authenticator.objects.filter(user=leader).exists()
    event = AuditEvent.objects.get(action=audit.MFA_RESET)
    assert event.before == {"authenticators": ["totp"]}


def test_the_log_cannot_be_changed_through_the_admin(client_as):
    event = audit.audit_record(action=audit.DATA_EXPORTED, object_repr="x")
    admin_client = client_as("admin")
    change = admin_client.post(reverse("admin:members_auditevent_change", args=[event.pk]), {"action": "forged"})
    delete = admin_client.post(reverse("admin:members_auditevent_delete", args=[event.pk]), {"post": "yes"})
    assert change.status_code == 403
    assert delete.status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).action == audit.DATA_EXPORTED


def test_the_log_cannot_be_changed_in_code_or_sql():
    event = audit.audit_record(action=audit.DATA_EXPORTED, object_repr="x")
    event.action = "forged"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(InternalError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE members_auditevent SET action = 'forged' WHERE id = %s", [event.pk])
    with pytest.raises(InternalError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM members_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == audit.DATA_EXPORTED


def test_deleting_the_actor_keeps_the_record_with_their_email():
    from tests.factories import UserFactory

    actor = UserFactory(email="gone@example.org")
    event = audit.audit_record(action=audit.DATA_EXPORTED, actor=actor, object_repr="x")
    actor.delete()
    event = AuditEvent.objects.get(pk=event.pk)
    assert (event.actor_id, event.actor_email) == (None, "gone@example.org")


def test_audit_csv_export_contains_the_rows(client_as):
    audit.audit_record(action=audit.DATA_EXPORTED, object_repr="first")
    audit.audit_record(action=audit.CONTENT_HIDDEN, object_repr="second")
    ids = list(AuditEvent.objects.values_list("pk", flat=True))
    response = client_as("admin").post(
        reverse("admin:members_auditevent_changelist"), {"action": "export_csv", "_selected_action": ids}
    )
    body = b"".join(response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0] == "created_at,actor,action,object_type,object_id,object,before,after,ip"
    assert [line.split(",")[2] for line in lines[1:]] == [audit.DATA_EXPORTED, audit.CONTENT_HIDDEN]
    assert AuditEvent.objects.filter(action=audit.AUDIT_EXPORTED).count() == 1


def test_moderation_hide_and_restore_write_one_record_each(persona_user):
    from feeds.models import Entry
    from feeds.moderation import entry_hide, entry_restore

    facilitator = persona_user("facilitator").member
    entry = Entry.objects.shared().first()
    entry_hide(member=facilitator, entry=entry, reason="spam")
    entry_restore(member=facilitator, entry=entry)
    events = list(AuditEvent.objects.filter(object_type="feeds.Entry").order_by("id"))
    assert [(e.action, e.actor_email, e.object_id, e.before, e.after) for e in events] == [
        (audit.CONTENT_HIDDEN, "facilitator@example.com", str(entry.pk), None, {"reason": "spam"}),
        (audit.CONTENT_RESTORED, "facilitator@example.com", str(entry.pk), {"reason": "spam"}, None),
    ]


def test_data_export_and_account_deletion_are_audited(persona_user):
    from plnorg.privacy.services import member_account_delete, member_data_export

    member = persona_user("employee").member
    member_data_export(member=member)
    user_id = member.user_id
    member_account_delete(member=member)
    events = list(AuditEvent.objects.filter(object_id=str(user_id)).order_by("id"))
    assert [(e.action, e.object_repr) for e in events] == [
        (audit.DATA_EXPORTED, "employee@example.com"),
        (audit.ACCOUNT_DELETED, "employee@example.com"),
    ]


def test_offboarding_audits_deactivation_and_manager_change(persona_user):
    from plnorg.privacy.services import member_offboard

    leaver = persona_user("manager").member
    replacement = persona_user("employee").member
    admin = persona_user("admin")
    member_offboard(member=leaver, actor=admin, replacement=replacement)
    actions = sorted(AuditEvent.objects.filter(actor_email="admin@example.com").values_list("action", flat=True))
    assert actions == sorted([audit.TEAM_MANAGER_CHANGED, audit.USER_DEACTIVATED])


def test_sso_configuration_change_is_audited_without_the_secret(client_as):
    from allauth.socialaccount.models import SocialApp
    from django.contrib.sites.models import Site

    response = client_as("admin").post(
        reverse("admin:socialaccount_socialapp_add"),
        {
            "provider": "openid_connect",
            "provider_id": "corp",
            "name": "Company SSO",
            "client_id": "plnorg",
            "secret": "top-secret-value",
            "key": "",
            "settings": '{"server_url": "https://login.example.com"}',
            "sites": [Site.objects.get_current().pk],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    app = SocialApp.objects.get(provider_id="corp")
    event = AuditEvent.objects.get(action=audit.SSO_CHANGED)
    assert event.object_id == str(app.pk)
    assert event.after == {
        "provider": "openid_connect",
        "provider_id": "corp",
        "name": "Company SSO",
        "client_id": "plnorg",
        "settings": {"server_url": "https://login.example.com"},
    }
    assert "top-secret-value" not in str(event.after)


def _new_events(since_id: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(pk__gt=since_id).order_by("id"))


def _last_event_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_reactivating_in_the_admin_writes_one_record(client_as, persona_user):
    admin = persona_user("admin")
    employee = persona_user("employee")
    User.objects.filter(pk=employee.pk).update(is_active=False)
    employee.refresh_from_db()
    since = _last_event_id()

    response = _admin_post_user(client_as("admin"), employee, is_active=True)

    assert response.status_code == 302
    assert User.objects.get(pk=employee.pk).is_active is True
    assert [
        (e.action, e.actor_id, e.actor_email, e.object_type, e.object_id, e.object_repr, e.before, e.after, e.ip)
        for e in _new_events(since)
    ] == [
        (
            audit.USER_REACTIVATED,
            admin.pk,
            "admin@example.com",
            "members.User",
            str(employee.pk),
            "employee@example.com",
            {"is_active": False},
            {"is_active": True},
            "10.1.2.3",
        )
    ]


def test_changing_signup_domains_writes_one_record(client_as, persona_user):
    admin = persona_user("admin")
    org = OrganizationSettings.get()
    OrganizationSettings.objects.filter(pk=org.pk).update(
        signup_domains="example.com",
        connectors_enabled=True,
        introduction_suggestions_enabled=True,
        network_figures_enabled=True,
    )
    since = _last_event_id()

    response = client_as("admin").post(
        reverse("admin:members_organizationsettings_change", args=[org.pk]),
        {
            "signup_domains": "example.com, partner.example.org",
            "connectors_enabled": "on",
            "introduction_suggestions_enabled": "on",
            "network_figures_enabled": "on",
        },
        REMOTE_ADDR="10.9.8.7",
    )

    assert response.status_code == 302
    assert OrganizationSettings.get().signup_domain_list == ["example.com", "partner.example.org"]
    assert [
        (e.action, e.actor_id, e.actor_email, e.object_type, e.object_id, e.before, e.after, e.ip)
        for e in _new_events(since)
    ] == [
        (
            audit.SIGNUP_DOMAINS_CHANGED,
            admin.pk,
            "admin@example.com",
            "members.OrganizationSettings",
            "1",
            {"signup_domains": "example.com"},
            {"signup_domains": "example.com, partner.example.org"},
            "10.9.8.7",
        )
    ]


def _yesterday(member) -> dt.date:
    from workshops.clock import services as clock

    return clock.member_today(member) - dt.timedelta(days=1)


def test_admin_editing_time_in_a_locked_week_writes_one_record(client_as, persona_user):
    from tests.workshops.clock.factories import TimeEntryFactory
    from workshops.clock import services as clock
    from workshops.clock.models import ClockWeekLock, TimeEntry

    admin = persona_user("admin")
    day = _yesterday(admin.member)
    entry = TimeEntryFactory(member=admin.member, date=day, minutes=30, activity="seek", status="approved")
    ClockWeekLock.objects.create(
        member=admin.member, week_start=clock.policy_for(admin.member).week_start(day), locked_by=admin
    )
    before = TimeEntry.objects.get(pk=entry.pk).snapshot()
    since = _last_event_id()

    response = client_as("admin").post(
        reverse("workshops:clock_entry", args=[entry.pk]),
        {"date": day.isoformat(), "duration": "45", "activity": "sense", "note": "corrected", "version": "1"},
        REMOTE_ADDR="10.4.4.4",
    )

    assert response.status_code == 302
    after = TimeEntry.objects.get(pk=entry.pk).snapshot()
    assert (after["minutes"], after["activity"], after["note"], after["status"], after["version"]) == (
        45,
        "sense",
        "corrected",
        "approved",
        2,
    )
    assert [
        (e.action, e.actor_id, e.actor_email, e.object_type, e.object_id, e.before, e.after, e.ip)
        for e in _new_events(since)
    ] == [
        (
            audit.TIME_ADMIN_EDITED,
            admin.pk,
            "admin@example.com",
            "clock.TimeEntry",
            str(entry.pk),
            before,
            after,
            "10.4.4.4",
        )
    ]


def test_admin_editing_someone_elses_time_writes_one_record(persona_user):
    from tests.workshops.clock.factories import TimeEntryFactory
    from workshops.clock import services as clock
    from workshops.clock.models import TimeEntry

    admin = persona_user("admin")
    employee = persona_user("employee").member
    day = _yesterday(employee)
    entry = TimeEntryFactory(member=employee, date=day, minutes=30, activity="seek", status="submitted")
    before = entry.snapshot()
    since = _last_event_id()

    clock.time_entry_update(
        entry_id=entry.pk, actor=admin, version=entry.version, activity="seek", day=day, minutes=20, note="split"
    )

    after = TimeEntry.objects.get(pk=entry.pk).snapshot()
    assert (after["minutes"], after["note"], after["status"]) == (20, "split", "submitted")
    assert [
        (e.action, e.actor_id, e.actor_email, e.object_type, e.object_id, e.object_repr, e.before, e.after)
        for e in _new_events(since)
    ] == [
        (
            audit.TIME_ADMIN_EDITED,
            admin.pk,
            "admin@example.com",
            "clock.TimeEntry",
            str(entry.pk),
            str(TimeEntry.objects.get(pk=entry.pk)),
            before,
            after,
        )
    ]


def test_admin_deleting_someone_elses_time_writes_one_record(persona_user):
    from tests.workshops.clock.factories import TimeEntryFactory
    from workshops.clock import services as clock
    from workshops.clock.models import TimeEntry

    admin = persona_user("admin")
    employee = persona_user("employee").member
    entry = TimeEntryFactory(member=employee, date=_yesterday(employee), minutes=30, status="approved")
    before = entry.snapshot()
    since = _last_event_id()

    clock.time_entry_delete(entry_id=entry.pk, actor=admin, version=entry.version)

    after = TimeEntry.objects.get(pk=entry.pk).snapshot()
    assert (before["deleted"], after["deleted"], after["version"]) == (False, True, entry.version + 1)
    assert [(e.action, e.actor_id, e.object_type, e.object_id, e.before, e.after) for e in _new_events(since)] == [
        (audit.TIME_ADMIN_EDITED, admin.pk, "clock.TimeEntry", str(entry.pk), before, after)
    ]


def _listed_event_ids(response) -> list[int]:
    """The rows the changelist shows, by the ids of their selection boxes."""
    return [int(pk) for pk in re.findall(r'name="_selected_action" value="(\d+)"', response.content.decode())]


def test_admins_filter_the_log_by_action_and_search_by_target_or_actor(client_as, persona_user):
    gus = User.objects.get(email="gus@example.com")
    granted_zed = audit.audit_record(
        action=audit.ROLE_GRANTED,
        actor=persona_user("admin"),
        object_type="members.User",
        object_repr="zed.audit@example.org",
    )
    deactivated_zed = audit.audit_record(
        action=audit.USER_DEACTIVATED, actor=persona_user("admin"), object_repr="zed.audit@example.org"
    )
    granted_by_gus = audit.audit_record(action=audit.ROLE_GRANTED, actor=gus, object_repr="yan.audit@example.org")
    audit.audit_record(action=audit.ROLE_GRANTED, object_repr="xia.audit@example.org")
    changelist = reverse("admin:members_auditevent_changelist")
    client = client_as("admin")

    # The filter the sidebar offers for an action is ?action=<action>.
    assert f"?action={audit.ROLE_GRANTED}" in parse_page(client.get(changelist)).links
    by_target = client.get(changelist, {"action": audit.ROLE_GRANTED, "q": "zed.audit@"})
    by_actor = client.get(changelist, {"action": audit.ROLE_GRANTED, "q": "gus@example.com"})
    any_action = client.get(changelist, {"q": "zed.audit@"})

    assert by_target.status_code == 200
    assert _listed_event_ids(by_target) == [granted_zed.pk]
    assert "zed.audit@example.org" in text_of(by_target)
    assert _listed_event_ids(by_actor) == [granted_by_gus.pk]
    assert "yan.audit@example.org" in text_of(by_actor)
    assert sorted(_listed_event_ids(any_action)) == sorted([granted_zed.pk, deactivated_zed.pk])
