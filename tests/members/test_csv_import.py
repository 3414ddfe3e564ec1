"""CSV import of members: a per-row report; good rows kept."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from members.models import Invitation
from members.services import CSVImportError, members_import_csv
from tests.factories import MemberFactory, TeamFactory
from tests.pages import text_of

pytestmark = pytest.mark.django_db


def test_report_per_row_and_good_rows_kept():
    boss = MemberFactory(user__email="boss@example.org")
    TeamFactory(name="Ops", manager=boss.user)
    MemberFactory(user__email="already@example.org")
    content = (
        b"email,name,team,manager email\n"
        b"ok@example.org,Ok Person,Ops,boss@example.org\n"
        b"not-an-email,Bad,Ops,\n"
        b"who@example.org,Who,Sales,\n"
        b"already@example.org,Here,Ops,\n"
        b"mgr@example.org,Mgr,Ops,nobody@example.org\n"
    )

    report = members_import_csv(content=content, actor=None)

    assert [(r["line"], r["outcome"]) for r in report] == [
        (2, "invited"),
        (3, "refused"),
        (4, "refused"),
        (5, "exists"),
        (6, "refused"),
    ]
    assert report[1]["message"] == "“not-an-email” is not a valid email address."
    assert report[2]["message"].startswith("There is no team named “Sales”. Known teams:")
    assert report[4]["message"] == "The manager email nobody@example.org is not a member."
    assert list(Invitation.objects.filter(email__endswith="@example.org").values_list("email", flat=True)) == [
        "ok@example.org"
    ]


def test_missing_columns_are_named():
    with pytest.raises(CSVImportError) as refused:
        members_import_csv(content=b"email,name\nx@example.org,X\n", actor=None)

    assert refused.value.message == (
        "The file is missing the column(s): team, manager email. The first line must be: email,name,team,manager email."
    )


def test_import_page_shows_the_report(client_as):
    upload = SimpleUploadedFile("people.csv", b"email,name,team,manager email\nbad,Bad,,\n", content_type="text/csv")

    response = client_as("admin").post(reverse("members:import_csv"), {"file": upload})

    assert "“bad” is not a valid email address." in text_of(response)
