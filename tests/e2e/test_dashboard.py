"""Browser journey: a leader opens the dashboard, sees the charts (screenshot
saved), switches the period, and downloads the CSV."""

import csv
import io

import pytest

from members.models import LEADERS, Member
from members.services import role_grant
from plnorg.dashboard.services import dashboard_refresh
from tests.e2e.conftest import ARTIFACTS, screenshot
from tests.e2e.conftest import signed_in_page as _page_as
from tests.factories import FeedFactory, MemberFactory, SubscriptionFactory, TeamFactory

CHART_TITLES = [
    "Participation rate per week (%)",
    "Shared entries per week",
    "Shared sources by platform",
]


@pytest.mark.timeout(120)
def test_leader_sees_charts_switches_period_and_downloads_the_csv(live_server, browser, transactional_db):
    team = TeamFactory(name="E2E Analysts")
    people = [MemberFactory(display_name=f"Analyst {i}", team=team) for i in range(6)]
    for i, person in enumerate(people[:4]):  # four of the six take part
        SubscriptionFactory(member=person, feed=FeedFactory(title=f"Analyst blog {i}", platform="blog"))
    leader = MemberFactory(display_name="Lea Leader", team=team).user
    role_grant(user=leader, group_name=LEADERS)
    members = Member.objects.active().count()  # the demo organization may be there too
    dashboard_refresh()  # what the half-hourly task does

    page = _page_as(browser, live_server, leader)
    page.goto(f"{live_server.url}/dashboard/")

    assert page.get_by_role("heading", name="Is our PLN working?").is_visible()
    for title in CHART_TITLES:
        figure = page.locator("figure.chart", has=page.get_by_role("heading", name=title, exact=True))
        assert figure.locator("svg").count() == 1, title
        assert figure.locator("svg").bounding_box()["width"] > 200, title  # drawn, not collapsed
    # Each chart's numbers are also a table behind "Data table".
    platforms = page.locator("#chart-platforms")
    platforms.get_by_text("Data table").click()
    assert "blog" in platforms.locator("table").inner_text()
    shot = screenshot(page, "dashboard-leader")
    assert shot.stat().st_size > 10_000

    # The board pack: printed, the site's header and the controls go, the figures stay.
    page.emulate_media(media="print")
    assert page.locator(".site-header").is_hidden()
    assert page.get_by_role("button", name="Show").is_hidden()
    assert page.locator("#chart-platforms svg").is_visible()
    pdf = ARTIFACTS / "dashboard-board-pack.pdf"
    page.pdf(path=str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF")
    page.emulate_media(media="screen")

    page.get_by_role("combobox", name="Period").select_option("quarter")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/dashboard/?period=quarter")
    assert page.get_by_role("combobox", name="Period").input_value() == "quarter"

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename == "plnorg-dashboard-quarter.csv"
    rows = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert rows[0] == ["section", "figure", "current", "previous"]
    assert ["headline", "members", str(members), ""] in rows
    assert ["teams", "E2E Analysts participation_rate", "0.5714", ""] in rows  # 4 of its 7 members
    assert page.console_errors == []
    page.context.close()
