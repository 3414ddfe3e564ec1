"""Browser journey: a facilitator pins an entry, a member sees it first on the
stream, recommends it to a colleague, who finds it on their home page."""

from datetime import timedelta

import pytest
from django.utils import timezone

from feeds.models import Pick, Recommendation
from members.models import FACILITATORS
from members.services import role_grant, role_groups_ensure
from tests.e2e.conftest import screenshot, signed_in_page
from tests.factories import EntryFactory, FeedFactory, MemberFactory, SubscriptionFactory

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120), pytest.mark.django_db(transaction=True)]


def test_pin_see_first_recommend_find_on_home(browser, live_server):
    role_groups_ensure()
    lena = MemberFactory(display_name="Lena Facilitator")
    role_grant(user=lena.user, group_name=FACILITATORS)
    ana = MemberFactory(display_name="Ana Member")
    cole = MemberFactory(display_name="Cole Colleague")
    feed = FeedFactory(title="Networked learning")
    SubscriptionFactory(member=ana, feed=feed, is_shared=True)
    now = timezone.now()
    older = EntryFactory(feed=feed, title="Why networks beat courses", published_at=now - timedelta(days=2))
    EntryFactory(feed=feed, title="A newer but ordinary post", published_at=now - timedelta(hours=1))

    # The facilitator pins the older entry from its page, with a note.
    page = signed_in_page(browser, live_server, lena.user)
    page.goto(f"/entries/{older.pk}/")
    page.get_by_label("Why this matters for us").fill("Read before Thursday's workshop")
    page.get_by_role("button", name="Pick for everyone").click()
    page.wait_for_load_state()
    assert Pick.objects.get(entry=older).note == "Read before Thursday's workshop"
    page.context.close()

    # A member sees it first on the stream, above the newer entry.
    page = signed_in_page(browser, live_server, ana.user)
    page.goto("/stream/")
    main_text = page.locator("main").inner_text()
    assert main_text.index("Why networks beat courses") < main_text.index("A newer but ordinary post")
    assert "Read before Thursday's workshop" in page.locator("section.picks").inner_text()
    screenshot(page, "curation-stream-pick-first")

    # ... and recommends it to a colleague.
    page.goto(f"/entries/{older.pk}/")
    page.get_by_role("link", name="Recommend to a colleague").click()
    page.get_by_label("Colleague").select_option(label=f"{cole.name} ({cole.team})")
    page.get_by_label("Note").fill("You asked about this")
    page.get_by_role("button", name="Recommend", exact=True).click()
    page.wait_for_load_state()
    assert Recommendation.objects.filter(sender=ana, recipient=cole, entry=older).exists()
    page.context.close()

    # The colleague finds it on their home page, and can dismiss it.
    page = signed_in_page(browser, live_server, cole.user)
    page.goto("/home/")
    recommended = page.locator("section", has=page.get_by_role("heading", name="Recommended to you"))
    text = recommended.inner_text()
    assert "Why networks beat courses" in text
    assert "Ana Member recommends it: “You asked about this”" in text
    screenshot(page, "curation-home-recommended")
    recommended.get_by_role("button", name="Dismiss").click()
    page.wait_for_load_state()
    assert (
        "Why networks beat courses"
        not in page.locator("section", has=page.get_by_role("heading", name="Recommended to you")).inner_text()
    )
    assert page.console_errors == []
    page.context.close()
