"""CSV import of members: every row checked first, a per-row report, exactly the good rows invited."""

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from members.models import Invitation, OutboundEmail, Team
from members.outbox import emails_send_pending
from members.services import CSVImportError, invitation_send, members_import_csv
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


# --- Hostile files through the real page ----------------------------------------

LONG_EMAIL = "a" * 64 + "@" + ".".join(["b" * 63, "c" * 63, "d" * 63, "e" * 51]) + ".org"  # 312 characters
HEADER = "email,name,team,manager email\n"


def report_rows(response) -> list[tuple[str, str, str]]:
    """The import report's table: (line, email, result) per row, as the page shows them."""
    html = response.content.decode()
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return [
        tuple(text_of(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL))
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    ]


def post_csv(client, content: bytes):
    upload = SimpleUploadedFile("people.csv", content, content_type="text/csv")
    return client.post(reverse("members:import_csv"), {"file": upload})


def outbox() -> list[tuple[str, str]]:
    return list(OutboundEmail.objects.filter(kind="invitation").order_by("pk").values_list("to", "status"))


@pytest.fixture
def admin_client(client_as, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    OutboundEmail.objects.filter(kind="invitation").delete()
    Invitation.objects.all().delete()
    return client_as("admin")


def test_hostile_file_is_checked_row_by_row_and_exactly_the_good_rows_are_invited(admin_client):
    boss = MemberFactory(user__email="boss@example.org")
    TeamFactory(name="Drill Team", manager=boss.user)
    MemberFactory(user__email="other.boss@example.org")
    MemberFactory(user__email="member@example.org")
    invitation_send(email="pending@example.org", actor=None)
    OutboundEmail.objects.filter(kind="invitation").update(status="sent")
    content = (
        HEADER
        + "first@example.org,First Person,Drill Team,boss@example.org\n"
        + "long.name@example.org,"
        + "N" * 10_000
        + ",,\n"
        + LONG_EMAIL
        + ",Long Email,,\n"
        + "nul@example.org,Nul\x00Byte,,\n"
        + "second@example.org,Second Person,,\n"
        + "FIRST@example.org,First Again,,\n"
        + "not-an-email,Bad,,\n"
        + '"break@example.org","Line\nBreak",,\n'
        + "third@example.org,Third,Drill Team,other.boss@example.org\n"
        + "member@example.org,Already Here,,\n"
        + "pending@example.org,Pending Person,,\n"
        + "x@example.org,X,Nowhere,\n"
    ).encode()

    response = post_csv(admin_client, content)

    assert response.status_code == 200
    assert report_rows(response) == [
        ("2", "first@example.org", "invited Invitation sent."),
        ("3", "long.name@example.org", "refused The name column is 10000 characters long; at most 120 are allowed."),
        (
            "4",
            LONG_EMAIL[:80] + "…",
            "refused The email column is 312 characters long; at most 254 are allowed.",
        ),
        (
            "5",
            "nul@example.org",
            "refused The name column contains a control character (such as a NUL byte or a line break); "
            "remove it and import the file again.",
        ),
        ("6", "second@example.org", "invited Invitation sent."),
        ("7", "FIRST@example.org", "refused first@example.org appears twice in the file."),
        ("8", "not-an-email", "refused “not-an-email” is not a valid email address."),
        (
            "10",
            "break@example.org",
            "refused The name column contains a control character (such as a NUL byte or a line break); "
            "remove it and import the file again.",
        ),
        (
            "11",
            "third@example.org",
            "refused other.boss@example.org is not the manager of Drill Team (boss@example.org is).",
        ),
        ("12", "member@example.org", "already a member Already a member; nothing changed."),
        ("13", "pending@example.org", "already invited Already invited; the pending invitation was not sent again."),
        (
            "14",
            "x@example.org",
            "refused There is no team named “Nowhere”. Known teams: "
            + ", ".join(Team.objects.order_by("name").values_list("name", flat=True))
            + ".",
        ),
    ]
    invited = Invitation.objects.filter(accepted_at__isnull=True).order_by("email")
    assert list(invited.values_list("email", "display_name", "team__name")) == [
        ("first@example.org", "First Person", "Drill Team"),
        ("pending@example.org", "", None),
        ("second@example.org", "Second Person", None),
    ]
    assert outbox() == [
        ("pending@example.org", "sent"),
        ("first@example.org", "pending"),
        ("second@example.org", "pending"),
    ]
    assert emails_send_pending() == 2
    assert sorted(message.to[0] for message in mail.outbox) == ["first@example.org", "second@example.org"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            HEADER.encode() + "caf\xe9@example.org,Caf\xe9,,\n".encode("latin-1"),
            "That file is not UTF-8 text. Save it as “CSV UTF-8” and try again.",
        ),
        (b"", "The submitted file is empty."),
        (b"\n \n", "That file is empty. The first line must be: email,name,team,manager email."),
        (
            HEADER.encode() + b"ok@example.org,Ok,,\n" + b'"' + b"x" * 140_000 + b'",y,,\n',
            "Line 3 cannot be read as CSV (field larger than field limit (131072)), so nothing was imported.",
        ),
    ],
    ids=["not-utf-8", "empty", "blank-lines", "field-too-large"],
)
def test_file_that_cannot_be_read_invites_nobody(admin_client, content, message):
    response = post_csv(admin_client, content)

    assert response.status_code == 200
    assert message in text_of(response)
    assert "Import report" not in text_of(response)
    assert Invitation.objects.count() == 0
    assert outbox() == []
    assert emails_send_pending() == 0
    assert mail.outbox == []


def test_file_with_only_its_header_says_so_and_invites_nobody(admin_client):
    response = post_csv(admin_client, HEADER.encode())

    assert report_rows(response) == [("The file has no rows below its first line.",)]
    assert Invitation.objects.count() == 0
    assert outbox() == []


def test_duplicated_rows_invite_once_and_importing_again_sends_nothing_more(admin_client):
    content = (HEADER + "dup@example.org,Dup,,\n" + "dup@example.org,Dup,,\n" + "Dup@Example.org,Dup,,\n").encode()

    first = post_csv(admin_client, content)
    again = post_csv(admin_client, content)

    assert report_rows(first) == [
        ("2", "dup@example.org", "invited Invitation sent."),
        ("3", "dup@example.org", "refused dup@example.org appears twice in the file."),
        ("4", "Dup@Example.org", "refused dup@example.org appears twice in the file."),
    ]
    assert report_rows(again)[0] == (
        "2",
        "dup@example.org",
        "already invited Already invited; the pending invitation was not sent again.",
    )
    assert list(Invitation.objects.values_list("email", flat=True)) == ["dup@example.org"]
    assert outbox() == [("dup@example.org", "pending")]
    assert emails_send_pending() == 1
    assert [message.to for message in mail.outbox] == [["dup@example.org"]]
