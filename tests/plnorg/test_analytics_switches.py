"""The people-analytics switches (issue 13): connectors, introduction
suggestions and network figures, each an ``OrganizationSettings`` field.

Switched off, a feature is hidden on every page that shows it, to every role
that can open that page, and its periodic task computes and stores nothing.
Every test first checks the feature is there while its switch is on.

Where each switch reaches:

- connectors: the member's own "Just for you" card (Introductions page, every
  member), "Connectors per team" (leaders' Introductions page), the
  transparency page, the ``plnorg.compute_introductions`` task.
- introduction suggestions: "People you might meet" (every member), the
  "Suggestions" nav link and "Who might meet whom" (leaders and admins), the
  "Suggested" column of the introductions funnel (leaders' page and the
  dashboard), the "Suggested:" card and the stored reason when introducing
  from a suggestion, the transparency page, ``plnorg.compute_introductions``.
- network figures: the network page (every member), "Network health" on the
  dashboard and in its CSV (leaders and admins), the transparency page, the
  ``feeds.refresh_network_figures`` and ``plnorg.refresh_dashboard`` tasks.

Other tests of the same switches: tests/plnorg/introductions/test_introductions.py
(``test_switches_off_hide_suggestions_and_connectors``), tests/feeds/test_network.py
and tests/plnorg/dashboard/test_dashboard.py (network), tests/plnorg/privacy/test_transparency.py.
"""

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from feeds.network import NETWORK_CACHE_KEY
from feeds.tasks import refresh_network_figures
from members.models import OrganizationSettings
from plnorg.dashboard.models import DashboardSnapshot
from plnorg.dashboard.tasks import refresh_dashboard
from plnorg.introductions.models import ConnectorStatus, Introduction, IntroductionComputation, IntroductionSuggestion
from plnorg.introductions.tasks import compute_introductions
from tests.factories import MemberFactory
from tests.pages import parse_page, text_of

pytestmark = pytest.mark.django_db

MEMBERS = ["employee", "manager", "facilitator", "leader", "admin"]
LEADERS = ["leader", "admin"]

CONNECTORS = "connectors_enabled"
SUGGESTIONS = "introduction_suggestions_enabled"
NETWORK = "network_figures_enabled"


def switch_off(field: str) -> None:
    org = OrganizationSettings.get()
    setattr(org, field, False)
    org.save()


# --- Connectors ---------------------------------------------------------------------


@pytest.mark.parametrize("persona", MEMBERS)
def test_connectors_off_hides_the_members_own_status(persona, client_as, persona_user):
    ConnectorStatus.objects.update_or_create(
        member=persona_user(persona).member,
        defaults={"is_connector": True, "betweenness": 0.5, "communities_spanned": 2, "computed_at": timezone.now()},
    )
    client = client_as(persona)
    url = reverse("people_you_might_meet")
    assert "Just for you You are a connector:" in text_of(client.get(url))

    switch_off(CONNECTORS)
    page = text_of(client.get(url))

    assert "Just for you" not in page
    assert "connector" not in page.lower()
    assert "Your introductions" in page


@pytest.mark.parametrize("persona", LEADERS)
def test_connectors_off_hides_the_team_counts(persona, client_as):
    client = client_as(persona)
    url = reverse("introductions_suggestions")
    assert "Connectors per team Connectors link communities" in text_of(client.get(url))

    switch_off(CONNECTORS)
    page = text_of(client.get(url))

    assert "Connectors" not in page
    assert "Introductions you sent" in page


# --- Introduction suggestions -------------------------------------------------------


@pytest.fixture
def suggestion(persona_user):
    """A current suggestion: the demo employee (opted in) and Zora Quill."""
    employee = persona_user("employee").member
    zora = MemberFactory(display_name="Zora Quill", introductions_opt_in=True)
    now = timezone.now()
    return IntroductionSuggestion.objects.create(
        member_a=employee,
        member_b=zora,
        score=1.0,
        source_similarity=1.0,
        topic_similarity=0.5,
        common_sources=["Blog Z"],
        common_topics=["python"],
        first_suggested_at=now,
        computed_at=now,
    )


@pytest.mark.parametrize("persona", LEADERS)
def test_suggestions_off_removes_the_nav_link(persona, client_as):
    client = client_as(persona)
    suggestions_url = reverse("introductions_suggestions")
    for name in ("home", "dashboard"):
        assert suggestions_url in parse_page(client.get(reverse(name))).nav_links

    switch_off(SUGGESTIONS)

    for name in ("home", "dashboard"):
        nav_links = parse_page(client.get(reverse(name))).nav_links
        assert suggestions_url not in nav_links
        assert reverse("people_you_might_meet") in nav_links


@pytest.mark.parametrize("persona", MEMBERS)
def test_suggestions_off_retitles_the_members_introductions_page(persona, client_as):
    client = client_as(persona)
    url = reverse("people_you_might_meet")
    assert "People you might meet" in text_of(client.get(url))

    switch_off(SUGGESTIONS)
    page = text_of(client.get(url))

    assert "People you might meet" not in page
    assert "Introductions Can colleagues be introduced to you?" in page


def test_suggestions_off_hides_an_opted_in_members_suggestions(suggestion, client_as):
    client = client_as("employee")
    url = reverse("people_you_might_meet")
    before = text_of(client.get(url))
    assert "Suggested for you Computed" in before
    assert "Zora Quill" in before
    assert "Both follow Blog Z; both write about python Ask to meet Zora Quill" in before

    switch_off(SUGGESTIONS)
    page = text_of(client.get(url))

    assert "Suggested for you" not in page
    assert "Zora Quill" not in page
    assert "Blog Z" not in page
    assert "Computed" not in page


@pytest.mark.parametrize("persona", LEADERS)
def test_suggestions_off_on_the_leaders_page_says_so(persona, suggestion, client_as):
    client = client_as(persona)
    url = reverse("introductions_suggestions")
    before = text_of(client.get(url))
    assert "Who might meet whom Computed" in before
    assert "Both follow Blog Z; both write about python Introduce " in before
    assert "Month Suggested Sent Accepted Met Crossing teams" in before

    switch_off(SUGGESTIONS)
    page = text_of(client.get(url))

    assert (
        "Introduction suggestions are switched off for the organization. You can still introduce colleagues yourself."
        in page
    )
    assert "Who might meet whom" not in page
    assert "Zora Quill" not in page
    assert "Suggested" not in page
    assert "Month Sent Accepted Met Crossing teams" in page


@pytest.mark.parametrize("persona", LEADERS)
def test_suggestions_off_drops_the_suggested_column_of_the_dashboard_funnel(persona, client_as):
    client = client_as(persona)
    before = text_of(client.get(reverse("dashboard")))
    assert "Suggested → sent → accepted by both → met, per month." in before
    assert "Month Suggested Sent Accepted Met Crossing teams" in before

    switch_off(SUGGESTIONS)
    page = text_of(client.get(reverse("dashboard")))

    assert "Sent → accepted by both → met, per month." in page
    assert "Month Sent Accepted Met Crossing teams" in page
    assert "Suggested" not in page


@pytest.mark.parametrize("persona", LEADERS)
def test_suggestions_off_ignores_a_suggestion_link_when_introducing(persona, suggestion, client_as):
    client = client_as(persona)
    url = reverse("introduction_new") + f"?suggestion={suggestion.pk}"
    employee = suggestion.member_a.name
    before = client.get(url)
    assert f"Suggested: {employee} and Zora Quill — both follow Blog Z; both write about python" in text_of(before)
    assert f'<option value="{suggestion.member_b_id}" selected>' in before.content.decode()

    switch_off(SUGGESTIONS)
    response = client.get(url)
    page = text_of(response)

    assert "Suggested:" not in page
    assert "Blog Z" not in page
    assert f'<option value="{suggestion.member_b_id}" selected>' not in response.content.decode()
    assert "Introduce two colleagues Both receive your note" in page


@pytest.mark.parametrize(
    ("switch_on", "expected"),
    [(True, ("both follow Blog Z; both write about python", True)), (False, ("", False))],
)
def test_an_introduction_carries_a_suggestions_reason_only_while_suggestions_are_on(
    switch_on, expected, suggestion, client_as
):
    if not switch_on:
        switch_off(SUGGESTIONS)

    client_as("leader").post(
        reverse("introduction_new"),
        {"member_1": suggestion.member_a_id, "member_2": suggestion.member_b_id, "note": "Hello both"},
    )

    introduction = Introduction.objects.get(member_a=suggestion.member_a, member_b=suggestion.member_b)
    assert (introduction.reason, introduction.from_suggestion) == expected
    assert introduction.note == "Hello both"


# --- Network figures ----------------------------------------------------------------


@pytest.mark.parametrize("persona", MEMBERS)
def test_network_off_the_network_page_says_so(persona, client_as):
    client = client_as(persona)
    url = reverse("feeds:network")
    before = text_of(client.get(url))
    assert "Sources several of us share" in before
    assert "Download the shared sources (OPML)" in before

    switch_off(NETWORK)
    page = text_of(client.get(url))

    assert (
        "An administrator switched network figures off for the organization, so this page shows no aggregate figures."
        in page
    )
    for hidden in (
        "Discover",
        "Sources several of us share",
        "What we are all reading this week",
        "Rising topics",
        "Who knows about",
        "Sources only one of us shares",
        "Download the shared sources (OPML)",
        "Figures computed",
    ):
        assert hidden not in page


@pytest.mark.parametrize("persona", MEMBERS)
def test_network_off_no_page_links_to_the_network_page(persona, client_as):
    client = client_as(persona)
    network = f'href="{reverse("feeds:network")}"'
    pages = [reverse("home"), reverse("feeds:stream"), reverse("feeds:starter_packs")]
    home = client.get(reverse("home")).content.decode()
    assert home.count(network) == 2  # the menu and "What we have in common"
    for url in pages:
        assert network in client.get(url).content.decode(), url  # the menu, on every page

    switch_off(NETWORK)

    for url in pages:
        assert network not in client.get(url).content.decode(), url


@pytest.mark.parametrize("persona", LEADERS)
def test_network_off_hides_network_health_on_the_dashboard_and_its_csv(persona, client_as):
    client = client_as(persona)
    assert "Network health Portfolio" in text_of(client.get(reverse("dashboard")))
    assert "\r\nnetwork,portfolio," in client.get(reverse("dashboard_export")).content.decode()

    switch_off(NETWORK)
    page = text_of(client.get(reverse("dashboard")))
    csv_body = client.get(reverse("dashboard_export")).content.decode()

    for hidden in ("Network health", "Unique reach", "Source diversity", "Silo index", "Feed health"):
        assert hidden not in page
    assert "network," not in csv_body
    assert csv_body.startswith("section,figure,current,previous\r\nheadline,participation_rate,")


# --- Every switch on the transparency page ------------------------------------------


@pytest.mark.parametrize(
    ("switch", "label"),
    [(CONNECTORS, "Connectors"), (SUGGESTIONS, "Introduction suggestions"), (NETWORK, "Network figures")],
)
def test_transparency_page_says_plainly_a_switch_is_off(switch, label, client_as):
    clients = {persona: client_as(persona) for persona in MEMBERS}
    for client in clients.values():
        assert f"{label}: on —" in text_of(client.get(reverse("transparency")))

    switch_off(switch)

    for persona, client in clients.items():
        page = text_of(client.get(reverse("transparency")))
        assert f"{label}: off —" in page, persona
        assert f"{label}: on" not in page, persona


# --- The tasks ----------------------------------------------------------------------


def stored(kind: str) -> list[tuple]:
    """What the introductions task stores for `kind`, row by row."""
    rows = (
        IntroductionSuggestion.objects.values_list("pk", "is_current", "computed_at")
        if kind == "suggestions"
        else ConnectorStatus.objects.values_list("pk", "is_connector", "computed_at")
    )
    computed = IntroductionComputation.objects.filter(kind=kind).values_list("computed_at", flat=True)
    return [*rows.order_by("pk"), *computed]


@pytest.mark.parametrize(
    ("switch", "kind", "other"),
    [(SUGGESTIONS, "suggestions", "connectors"), (CONNECTORS, "connectors", "suggestions")],
)
def test_compute_introductions_task_stores_nothing_for_a_switched_off_kind(switch, kind, other):
    before = {k: stored(k) for k in ("suggestions", "connectors")}
    assert before[kind] and before[other]  # the demo seeding computed both
    switch_off(switch)

    compute_introductions()

    assert stored(kind) == before[kind]
    assert stored(other) != before[other]  # the task ran: the kind still on was recomputed


def test_compute_introductions_task_stores_nothing_when_both_are_off():
    IntroductionSuggestion.objects.all().delete()
    ConnectorStatus.objects.all().delete()
    IntroductionComputation.objects.all().delete()
    switch_off(SUGGESTIONS)
    switch_off(CONNECTORS)

    compute_introductions()

    assert (IntroductionSuggestion.objects.count(), ConnectorStatus.objects.count()) == (0, 0)
    assert IntroductionComputation.objects.count() == 0


def test_compute_introductions_task_stores_both_when_on():
    IntroductionSuggestion.objects.all().delete()
    ConnectorStatus.objects.all().delete()
    IntroductionComputation.objects.all().delete()

    compute_introductions()

    assert IntroductionSuggestion.objects.filter(is_current=True).exists()
    assert ConnectorStatus.objects.exists()
    assert sorted(IntroductionComputation.objects.values_list("kind", flat=True)) == ["connectors", "suggestions"]


def test_refresh_network_figures_task_caches_nothing_when_off():
    assert refresh_network_figures() is True
    assert cache.get(NETWORK_CACHE_KEY) is not None

    switch_off(NETWORK)

    assert refresh_network_figures() is False
    assert cache.get(NETWORK_CACHE_KEY) is None


def test_refresh_dashboard_task_stores_no_network_figures_when_off():
    refresh_dashboard()
    shown = {s.period: s.data["network"] is not None for s in DashboardSnapshot.objects.all()}
    assert shown == {"4w": True, "quarter": True, "year": True}

    switch_off(NETWORK)
    refresh_dashboard()

    snapshots = {s.period: s.data["network"] for s in DashboardSnapshot.objects.all()}
    assert snapshots == {"4w": None, "quarter": None, "year": None}
