"""Old admin addresses of models that moved to an app of their own redirect to
the new ones for one release (plnorg/aliases.py), and shadow nothing else."""

import pytest
from django.apps import apps

from plnorg.aliases import MOVED_ADMIN_MODELS
from tests.pages import text_of

pytestmark = pytest.mark.django_db

MOVED = sorted(MOVED_ADMIN_MODELS.items())


def test_every_moved_model_is_listed_with_its_app_of_today():
    assert [(old, model, new) for (old, model), new in MOVED] == [
        ("members", "introduction", "introductions"),
        ("plnorg", "connectorstatus", "introductions"),
        ("plnorg", "dashboardsnapshot", "dashboard"),
        ("plnorg", "introductioncomputation", "introductions"),
        ("plnorg", "introductionsuggestion", "introductions"),
        ("workshops", "clockpolicy", "clock"),
        ("workshops", "clocktimer", "clock"),
        ("workshops", "clockweeklock", "clock"),
        ("workshops", "timeentry", "clock"),
        ("workshops", "timeentryhistory", "clock"),
    ]
    assert all(apps.get_model(new, model) for (_old, model), new in MOVED)


@pytest.mark.parametrize(("old_label", "model_name", "new_label"), [(o, m, n) for (o, m), n in MOVED])
def test_an_old_admin_list_address_redirects_to_the_new_one_which_opens(client_as, old_label, model_name, new_label):
    admin = client_as("admin")

    response = admin.get(f"/admin/{old_label}/{model_name}/?o=1")

    assert (response.status_code, response["Location"]) == (302, f"/admin/{new_label}/{model_name}/?o=1")
    page = admin.get(response["Location"])
    verbose_name = str(apps.get_model(new_label, model_name)._meta.verbose_name)
    assert page.status_code == 200
    # "Select time entry to change" (or "to view" for the view-only admins).
    assert f"select {verbose_name} to" in text_of(page).lower()


def test_an_old_admin_change_address_keeps_the_rest_of_its_path(client_as):
    from workshops.clock.models import ClockPolicy

    policy = ClockPolicy.objects.get(team=None)

    response = client_as("admin").get(f"/admin/workshops/clockpolicy/{policy.pk}/change/")

    assert (response.status_code, response["Location"]) == (302, f"/admin/clock/clockpolicy/{policy.pk}/change/")


def test_the_aliases_are_for_admins_only(client_as):
    assert client_as("employee").get("/admin/workshops/timeentry/").status_code == 403
    anonymous = client_as("anonymous").get("/admin/workshops/timeentry/")
    assert (anonymous.status_code, anonymous["Location"]) == (
        302,
        "/accounts/login/?next=/admin/workshops/timeentry/",
    )


def test_admin_pages_of_models_that_stayed_are_not_redirected(client_as):
    admin = client_as("admin")

    heartbeats = admin.get("/admin/plnorg/heartbeat/")
    workshops = admin.get("/admin/workshops/workshop/")

    assert (heartbeats.status_code, workshops.status_code) == (200, 200)
    assert "Select heartbeat to change" in text_of(heartbeats)
    assert "Select workshop to change" in text_of(workshops)
