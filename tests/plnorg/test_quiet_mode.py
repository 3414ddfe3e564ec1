"""Quiet mode (members.Member.quiet_mode) hides nudges and badges, and only them.

Each nudge or badge is checked with quiet mode off (shown) and on (gone),
next to the content the member asked for, which stays: the network figures,
the onboarding form, their introductions and their own introductions choice.
"""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from feeds.models import StarterPackItem, Subscription
from plnorg.introductions.models import ConnectorStatus
from plnorg.introductions.services.introduction import introduction_send
from tests.factories import FeedFactory, MemberFactory, StarterPackFactory, SubscriptionFactory
from tests.pages import text_of

pytestmark = pytest.mark.django_db

QUIET = pytest.mark.parametrize("quiet", [False, True], ids=["quiet-off", "quiet-on"])


def page_for(member, url: str) -> str:
    client = Client()
    client.force_login(member.user)
    response = client.get(url)
    assert response.status_code == 200
    # text_of leaves a space where a link or form ends: "<a>Ana</a>, " reads "Ana ,".
    return text_of(response).replace(" ,", ",").replace(" :", ":")


@QUIET
def test_network_discover_suggestions_are_a_nudge(quiet):
    Subscription.objects.all().delete()  # only the sources below are shared (rolled back after the test)
    me = MemberFactory(quiet_mode=quiet)
    podcast = FeedFactory(title="Quiet Hours Podcast", platform="podcast")
    for name in ("Ana", "Ben"):
        SubscriptionFactory(member=MemberFactory(display_name=name), feed=podcast, is_shared=True)

    page = page_for(me, reverse("feeds:network"))

    nudge = "Discover 2 colleagues share a podcast you don't follow: Quiet Hours Podcast"
    assert (nudge in page) is not quiet
    assert ("Follow: Quiet Hours Podcast" in page) is not quiet
    # The figures the member came for stay.
    assert "Sources several of us share Quiet Hours Podcast 2 — Ana, Ben" in page


@QUIET
def test_onboarding_starter_pack_offer_and_introductions_pitch_are_nudges(quiet):
    me = MemberFactory(quiet_mode=quiet)
    pack = StarterPackFactory(title="Calm data reading")
    StarterPackItem.objects.create(pack=pack, feed=FeedFactory(), position=0)

    page = page_for(me, reverse("feeds:onboarding"))

    assert ("Start from what colleagues follow" in page) is not quiet
    assert ("Follow the whole pack: Calm data reading" in page) is not quiet
    assert ("Meet colleagues with the same interests (optional)" in page) is not quiet
    assert ("Yes, I can be suggested for introductions" in page) is not quiet
    # What the member came for stays.
    assert "Add your first account or source" in page
    assert "What is a PLN?" in page


def test_onboarding_in_quiet_mode_still_shows_an_introductions_choice_already_made():
    me = MemberFactory(quiet_mode=True, introductions_opt_in=True)

    page = page_for(me, reverse("feeds:onboarding"))

    assert "on You can be suggested for introductions. Turn introductions off" in page


@QUIET
def test_introductions_waiting_for_your_answer_badge(quiet):
    me = MemberFactory(quiet_mode=quiet, introductions_opt_in=True)
    other = MemberFactory(display_name="Bea Bridge", introductions_opt_in=True)
    introduction_send(sender=MemberFactory().user, member_1=me, member_2=other)

    page = page_for(me, reverse("people_you_might_meet"))

    assert ("waiting for your answer" in page) is not quiet
    # The introduction itself and its state stay.
    assert "Your introductions With Bea Bridge Waiting for both" in page


@QUIET
def test_introductions_opt_in_sales_line(quiet):
    me = MemberFactory(quiet_mode=quiet, introductions_opt_in=False)

    page = page_for(me, reverse("people_you_might_meet"))

    assert "No: nobody suggests you, lists you or introduces you." in page
    assert ("Turn it on to meet colleagues who follow what you follow." in page) is not quiet


@QUIET
def test_connector_badge(quiet):
    me = MemberFactory(quiet_mode=quiet)
    ConnectorStatus.objects.create(
        member=me, is_connector=True, betweenness=0.5, communities_spanned=2, computed_at=timezone.now()
    )

    page = page_for(me, reverse("people_you_might_meet"))

    assert ("Just for you You are a connector:" in page) is not quiet
    assert "Your introductions" in page


@QUIET
def test_quiet_mode_never_hides_recommendations_picks_or_own_pln_on_home(quiet):
    from tests.factories import PickFactory, RecommendationFactory

    me = MemberFactory(quiet_mode=quiet)
    feed = FeedFactory(title="My own blog")
    SubscriptionFactory(member=me, feed=feed, kind=Subscription.Kind.ACCOUNT, is_shared=True)
    RecommendationFactory(recipient=me, entry__feed=feed, entry__title="Read this calmly", note="When you have time")
    PickFactory(entry__feed=feed, entry__title="Picked calmly")

    page = page_for(me, reverse("home"))

    assert "Your accounts My own blog shared" in page
    assert "Read this calmly" in page
    assert "recommends it: “When you have time”" in page
    assert "Picked calmly" in page
