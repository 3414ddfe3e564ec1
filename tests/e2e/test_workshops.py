"""Browser journey: a facilitator publishes a 2-seat workshop, three members
register (the third waitlisted at position 1), one cancels, the third is
promoted and sees it, and the facilitator marks attendance."""

from datetime import timedelta

import pytest
from django.utils import timezone

from members.models import FACILITATORS, OutboundEmail
from members.services import role_grant
from tests.e2e.conftest import screenshot, signed_in_page
from tests.factories import MemberFactory
from workshops.models import Attendance, Registration, Workshop

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180), pytest.mark.django_db(transaction=True)]


def test_publish_register_waitlist_promote_and_mark_attendance(browser, live_server):
    lena = MemberFactory(display_name="Lena Facilitator").user
    role_grant(user=lena, group_name=FACILITATORS)
    ana, ben, cleo = (MemberFactory(display_name=name) for name in ("Ana", "Ben", "Cleo"))

    # The facilitator creates and publishes the workshop.
    facilitator = signed_in_page(browser, live_server, lena)
    facilitator.goto("/workshops/new/")
    facilitator.get_by_label("Title").fill("Tending your feed reader")
    facilitator.get_by_label("Capacity").fill("2")
    facilitator.get_by_label("Date").fill((timezone.now() + timedelta(days=14)).date().isoformat())
    facilitator.get_by_label("Starts").fill("10:00")
    facilitator.get_by_label("Ends").fill("12:00")
    facilitator.get_by_label("Time zone").select_option("Europe/Paris")
    facilitator.get_by_label("Where").select_option("in_person")
    facilitator.get_by_label("Room").fill("Room Ada")
    facilitator.get_by_role("button", name="Save").click()
    facilitator.wait_for_url("**/workshops/*/")
    facilitator.get_by_role("button", name="Publish").click()
    assert "Published: members can now register." in facilitator.inner_text("body")
    workshop = Workshop.objects.get(title="Tending your feed reader")
    assert workshop.status == "published"
    screenshot(facilitator, "workshops-1-published")

    # Three members register; the third lands on the waitlist at position 1.
    pages = {}
    for member in (ana, ben, cleo):
        page = signed_in_page(browser, live_server, member.user)
        page.goto("/workshops/")
        page.get_by_role("link", name="Tending your feed reader").click()
        page.get_by_role("button", name="Join the waitlist" if member is cleo else "Register").click()
        pages[member.pk] = page
    assert "You are on the waitlist at position 1." in pages[cleo.pk].inner_text("main")
    screenshot(pages[cleo.pk], "workshops-2-waitlisted")

    # Ana cancels; Cleo is promoted, told by email, and sees it.
    pages[ana.pk].get_by_role("button", name="Cancel my registration").click()
    assert "Your registration is cancelled." in pages[ana.pk].inner_text("body")
    pages[cleo.pk].reload()
    assert "You are registered." in pages[cleo.pk].inner_text("main")
    assert OutboundEmail.objects.filter(kind="workshop_promoted", user=cleo.user).count() == 1
    screenshot(pages[cleo.pk], "workshops-3-promoted")

    # The facilitator marks attendance with the keyboard: one select per row, one submit.
    facilitator.goto(f"/workshops/{workshop.pk}/roster/")
    facilitator.get_by_role("link", name="Attendance for session 1").click()
    ben_registration = Registration.objects.get(workshop=workshop, member=ben)
    select = facilitator.get_by_label("Attendance of Ben")
    select.focus()
    select.select_option("no_show")
    facilitator.keyboard.press("Tab")
    facilitator.get_by_role("button", name="Save attendance").focus()
    facilitator.keyboard.press("Enter")
    facilitator.wait_for_url(f"**/workshops/{workshop.pk}/roster/")
    assert "Attendance saved (2 changed)." in facilitator.inner_text("body")
    screenshot(facilitator, "workshops-4-attendance")

    marks = dict(Attendance.objects.filter(session__workshop=workshop).values_list("registration__member_id", "status"))
    assert marks == {ben.pk: "no_show", cleo.pk: "attended"}
    assert Registration.objects.get(pk=ben_registration.pk).status == "no_show"
    for page in (facilitator, *pages.values()):
        assert page.console_errors == []
        page.context.close()
