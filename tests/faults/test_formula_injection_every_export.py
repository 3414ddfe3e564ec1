"""Formula injection through every export: each CSV and XLSX plnorg offers
shows a hostile cell as text (a leading apostrophe), never as a formula.

Spreadsheets run a cell starting with = + - @ (some after a leading tab or
carriage return). The hostile values enter where people and third parties
write text: a member's display name, a team's name, a feed's title.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from members.models import FACILITATORS, AuditEvent
from members.services import role_grant
from tests.factories import FeedFactory, MemberFactory, SubscriptionFactory, TeamFactory
from tests.pages import client_for
from tests.workshops.clock.factories import TimeEntryFactory
from tests.workshops.factories import RegistrationFactory, WorkshopFactory

pytestmark = pytest.mark.django_db

HOSTILE = ['=HYPERLINK("https://evil.example","details")', "+1+2", "-2+3", "@SUM(1+1)", "\t=1+2", "\r=1+2"]
DAY = dt.date(2021, 3, 3)
PERIOD = {"start": "2021-03-01", "end": "2021-03-31"}


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))


def _hostile_time(hostile: str) -> TimeEntryFactory:
    return TimeEntryFactory(
        member=MemberFactory(team=TeamFactory(name=hostile)), team_name=hostile, date=DAY, status="approved"
    )


@pytest.mark.parametrize("hostile", HOSTILE)
def test_workshop_roster_csv(hostile):
    facilitator = MemberFactory()
    role_grant(user=facilitator.user, group_name=FACILITATORS)
    workshop = WorkshopFactory(facilitators=[facilitator.user])
    person = MemberFactory(display_name=hostile, team=TeamFactory(name=hostile))
    RegistrationFactory(workshop=workshop, member=person)

    rows = _csv(client_for(facilitator).get(reverse("workshops:roster_csv", kwargs={"pk": workshop.pk})))

    (row,) = [r for r in rows[1:] if r[1] == person.user.email]
    assert (row[0], row[2]) == ("'" + hostile, "'" + hostile)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_time_csv(hostile, client_as):
    entry = _hostile_time(hostile)

    rows = _csv(client_as("admin").get(reverse("workshops:clock_export_csv"), PERIOD))

    (row,) = [r for r in rows[1:] if r[0] == entry.member.user.email]
    assert row == [entry.member.user.email, "'" + hostile, "2021-03-03", "30", "seek", "approved", ""]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_time_xlsx(hostile, client_as):
    from openpyxl import load_workbook

    entry = _hostile_time(hostile)

    response = client_as("admin").get(reverse("workshops:clock_export_xlsx"), PERIOD)

    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)))["Time"]
    (row,) = [r for r in sheet.iter_rows(min_row=2) if r[0].value == entry.member.user.email]
    team = row[1]
    # XML turns a carriage return into a line feed on reading; the cell is still text.
    assert (team.data_type, team.value) == ("s", "'" + hostile.replace("\r", "\n"))


@pytest.mark.parametrize("hostile", HOSTILE)
def test_time_summary_csv(hostile, client_as):
    entry = _hostile_time(hostile)

    rows = _csv(client_as("admin").get(reverse("workshops:clock_export_summary"), PERIOD))

    (row,) = [r for r in rows[1:] if r[0] == entry.member.user.email]
    assert row[:3] == [entry.member.user.email, "'" + hostile, "2021-03"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_audit_log_csv(hostile, client_as, persona_user):
    from feeds.moderation import feed_hide

    feed = FeedFactory(title=hostile)
    SubscriptionFactory(feed=feed, is_shared=True)
    feed_hide(member=persona_user("facilitator").member, feed=feed, reason="spam")
    event = AuditEvent.objects.get(object_type="feeds.Feed", object_id=str(feed.pk))

    response = client_as("admin").post(
        reverse("admin:members_auditevent_changelist"), {"action": "export_csv", "_selected_action": [event.pk]}
    )

    (row,) = _csv(response)[1:]
    assert row[1:6] == ["facilitator@example.com", "moderation.hidden", "feeds.Feed", str(feed.pk), "'" + hostile]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_dashboard_csv(hostile, client_as):
    from plnorg.dashboard.services import dashboard_refresh

    team = TeamFactory(name=hostile)
    for _ in range(5):  # a team of 5: shown by name
        MemberFactory(team=team)
    dashboard_refresh(periods=["4w"])

    rows = _csv(client_as("leader").get(reverse("dashboard_export"), {"period": "4w"}))

    team_rows = [r[:2] for r in rows if r[0] == "teams" and hostile in r[1]]
    assert team_rows == [
        ["teams", f"'{hostile} participation_rate"],
        ["teams", f"'{hostile} active_sharers"],
    ]


def test_numbers_dates_and_plain_text_pass_unchanged():
    from decimal import Decimal

    from core.spreadsheets import spreadsheet_row

    row = [-3, -0.25, Decimal("-1.50"), None, DAY, "", "Team A", "a=b", "'=already quoted"]

    assert spreadsheet_row(row) == row


def test_every_csv_and_xlsx_export_writes_through_the_one_helper():
    """A new export that builds its own csv.writer or openpyxl rows would skip it."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    csv_writers, xlsx_without_helper = [], []
    for folder in ("core", "members", "feeds", "workshops", "plnorg"):
        for path in (root / folder).rglob("*.py"):
            text = path.read_text()
            name = str(path.relative_to(root))
            if "csv.writer(" in text or "csv.DictWriter(" in text:
                csv_writers.append(name)
            if "openpyxl" in text and "spreadsheet_row" not in text:
                xlsx_without_helper.append(name)
    assert (csv_writers, xlsx_without_helper) == (["core/spreadsheets.py"], [])
