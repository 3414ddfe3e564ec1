"""Browser journey on the clock: a member runs a timer, adds an entry and
submits the week; the manager rejects one entry and approves the rest; the
member sees the reason; the CSV holds exactly the approved minutes."""

import csv
import io
import re

import pytest

from tests.e2e.conftest import screenshot, send_outbox, signed_in_page
from tests.factories import MemberFactory, TeamFactory, UserFactory
from workshops.clock.models import TimeEntry


@pytest.mark.timeout(120)
@pytest.mark.django_db(transaction=True)
def test_member_records_manager_decides_csv_holds_approved_minutes(browser, live_server):
    manager = UserFactory(email="mara.clock@example.org")
    team = TeamFactory(name="Platform", manager=manager)
    MemberFactory(user=manager, team=team, display_name="Mara")
    member = MemberFactory(team=team, display_name="Ana Clock", user__email="ana.clock@example.org")

    page = signed_in_page(browser, live_server, member.user)
    page.goto("/clock/")
    # The timer lives in the header of every page.
    page.get_by_label("Timer activity").select_option("share")
    page.get_by_role("button", name="Start the timer for this activity").click()
    page.get_by_role("button", name="Stop timer").click()
    assert "Timer stopped: 1 min recorded as a draft." in page.inner_text("body")

    page.goto("/clock/")
    page.get_by_label("Duration").fill("1h30")
    page.get_by_label(re.compile(r"^Activity")).select_option("seek")
    page.get_by_label(re.compile(r"^Note")).fill("Conference talk recordings")
    page.get_by_role("button", name="Check").click()
    assert page.get_by_text("= 1 h 30 min").is_visible()
    page.get_by_role("button", name="Save entry").click()
    page.get_by_role("button", name="Submit the week").click()
    assert "Week submitted: 2 entries" in page.inner_text("body")
    screenshot(page, "clock-submitted")
    page.context.close()

    boss = signed_in_page(browser, live_server, manager)
    boss.goto("/clock/approvals/")
    share_row = boss.locator("tr", has_text="Share")
    share_row.get_by_label("Reason to reject", exact=True).fill("Say what you shared")
    share_row.get_by_role("button", name="Reject").click()
    assert "the person was told why" in boss.inner_text("body")
    boss.get_by_role("button", name="Approve the whole week").click()
    assert "Week approved: 1 entries" in boss.inner_text("body")
    screenshot(boss, "clock-approvals")
    csv_text = boss.request.get("/clock/export/entries.csv").text()
    boss.context.close()

    mails = send_outbox()
    assert [m.to for m in mails] == [["ana.clock@example.org"]]
    assert "Say what you shared" in mails[0].body

    page = signed_in_page(browser, live_server, member.user)
    page.goto("/clock/")
    assert "Not approved: Say what you shared" in page.inner_text("main")
    page.context.close()

    rows = list(csv.DictReader(io.StringIO(csv_text)))
    approved = [r for r in rows if r["status"] == "approved"]
    assert [(r["email"], r["minutes"], r["activity"], r["approver"]) for r in approved] == [
        ("ana.clock@example.org", "90", "seek", "mara.clock@example.org")
    ]
    assert sum(int(r["minutes"]) for r in approved) == sum(
        TimeEntry.objects.filter(team=team, status="approved").values_list("minutes", flat=True)
    )
