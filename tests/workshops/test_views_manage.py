"""Facilitator pages of issue 9 not covered elsewhere: editing a workshop and
removing a material (with its stored file)."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from members.models import FACILITATORS, AuditEvent
from members.services import role_grant
from tests.factories import MemberFactory
from tests.pages import client_for, parse_page, text_of
from tests.workshops.factories import RegistrationFactory, ResourceFactory, TopicFactory, WorkshopFactory
from workshops.models import Workshop, WorkshopMaterial
from workshops.services.workshop import material_add, workshop_duplicate

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.fixture
def other_facilitator(db):
    member = MemberFactory()
    role_grant(user=member.user, group_name=FACILITATORS)
    return member.user


# --- Editing a workshop -----------------------------------------------------------------------


@pytest.fixture
def workshop(facilitator):
    return WorkshopFactory(
        title="Zq Curating sources",
        audience="Everyone",
        capacity=10,
        facilitators=[facilitator],
        sessions__starts_in=_in_two_weeks_at_ten_in_paris(),
    )


def _in_two_weeks_at_ten_in_paris() -> timedelta:
    """From now to 10:00 in Paris (the factory's zone) two weeks on: the edit
    form gives a session one day, and a session starting "now" late in the
    evening would end after midnight (these tests failed after 21:00 UTC)."""
    now = timezone.now()
    paris = now.astimezone(ZoneInfo("Europe/Paris"))
    ten = (paris + timedelta(days=14)).replace(hour=10, minute=0, second=0, microsecond=0)
    return ten - now


def edit_data(workshop: Workshop, **overrides) -> dict:
    """What the edit form posts for the workshop as it is, with `overrides`."""
    session = workshop.session_list[0]
    start, end = session.starts_at.astimezone(session.tzinfo), session.ends_at.astimezone(session.tzinfo)
    data = {
        "title": workshop.title,
        "description": workshop.description,
        "audience": workshop.audience,
        "capacity": str(workshop.capacity),
        "prework_note": workshop.prework_note,
        "facilitators": [user.pk for user in workshop.facilitators.all()],
        "sessions-TOTAL_FORMS": "1",
        "sessions-INITIAL_FORMS": "1",
        "sessions-MIN_NUM_FORMS": "0",
        "sessions-MAX_NUM_FORMS": "20",
        "sessions-0-session_id": str(session.pk),
        "sessions-0-day": start.date().isoformat(),
        "sessions-0-start": start.strftime("%H:%M"),
        "sessions-0-end": end.strftime("%H:%M"),
        "sessions-0-time_zone": session.time_zone,
        "sessions-0-mode": session.mode,
        "sessions-0-room": session.room,
        "sessions-0-online_url": session.online_url,
    }
    data.update(overrides)
    return data


def test_edit_page_is_filled_with_the_workshop(facilitator, workshop):
    session = workshop.session_list[0]
    local_day = session.starts_at.astimezone(session.tzinfo).date().isoformat()

    response = client_for(facilitator).get(reverse("workshops:edit", args=[workshop.pk]))

    fields = next(f for f in parse_page(response).forms if "title" in f["fields"])["fields"]
    assert "Edit: Zq Curating sources" in text_of(response)
    assert (fields["title"], fields["audience"], fields["capacity"]) == ("Zq Curating sources", "Everyone", "10")
    assert (fields["sessions-0-session_id"], fields["sessions-0-day"], fields["sessions-0-room"]) == (
        str(session.pk),
        local_day,
        "Room 1",
    )
    assert (fields["sessions-TOTAL_FORMS"], fields["sessions-INITIAL_FORMS"]) == ("2", "1")


def test_edit_saves_the_change_and_keeps_the_session(facilitator, workshop):
    topic = TopicFactory(slug="zq-curation", name="Zq Curation")
    resource = ResourceFactory(title="Zq Feed reader guide", url="https://guide.example.net/feeds")
    session = workshop.session_list[0]
    client = client_for(facilitator)

    response = client.post(
        reverse("workshops:edit", args=[workshop.pk]),
        edit_data(
            workshop,
            title="Zq Curating your sources",
            audience="Researchers",
            capacity="8",
            topics=[topic.pk],
            resources=[resource.pk],
            prework_note="Bring three feeds you read.",
            **{"sessions-0-room": "Room 2"},
        ),
        follow=True,
    )

    assert response.redirect_chain == [(reverse("workshops:detail", args=[workshop.pk]), 302)]
    body = text_of(response)
    assert "Workshop saved." in body
    assert "Zq Curating your sources" in body and "For Researchers Zq Curation" in body
    assert "In person: Room 2" in body and "Bring three feeds you read." in body
    assert "https://guide.example.net/feeds" in parse_page(response).links
    workshop.refresh_from_db()
    assert (workshop.title, workshop.audience, workshop.capacity, workshop.prework_note) == (
        "Zq Curating your sources",
        "Researchers",
        8,
        "Bring three feeds you read.",
    )
    assert workshop.sessions.get().sequence == 1  # published, new title and room: calendars must pick it up
    assert list(workshop.topics.all()) == [topic]
    assert list(workshop.resources.all()) == [resource]
    assert list(workshop.facilitators.all()) == [facilitator]
    assert list(workshop.sessions.values_list("pk", "room")) == [(session.pk, "Room 2")]


def test_edit_capacity_below_the_registered_is_refused_unless_overbooking(facilitator, workshop):
    RegistrationFactory.create_batch(3, workshop=workshop)
    client = client_for(facilitator)
    url = reverse("workshops:edit", args=[workshop.pk])

    refused = client.post(url, edit_data(workshop, title="Zq Smaller", capacity="2"))

    assert refused.status_code == 200
    assert (
        "3 people are registered, more than the capacity of 2. "
        "Raise the capacity, or tick “overbook on purpose” to keep them all." in text_of(refused)
    )
    workshop.refresh_from_db()
    assert (workshop.title, workshop.capacity, workshop.sessions.get().sequence) == ("Zq Curating sources", 10, 0)

    client.post(url, edit_data(workshop, title="Zq Smaller", capacity="2", allow_overbooking="on"))

    workshop.refresh_from_db()
    assert (workshop.title, workshop.capacity) == ("Zq Smaller", 2)
    event = AuditEvent.objects.get(action="workshop.overbooked", object_id=str(workshop.pk))
    assert (event.before, event.after) == ({"capacity": 10}, {"capacity": 2, "registered": 3})


def test_edit_by_another_facilitator_is_404_and_changes_nothing(other_facilitator, workshop):
    response = client_for(other_facilitator).post(
        reverse("workshops:edit", args=[workshop.pk]), edit_data(workshop, title="Zq Taken over")
    )

    assert response.status_code == 404
    workshop.refresh_from_db()
    assert workshop.title == "Zq Curating sources"


# --- Removing a material -------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    return tmp_path


@pytest.fixture
def materials(media, facilitator, workshop):
    slides = material_add(
        workshop=workshop, actor=facilitator, title="Zq Slides", upload=SimpleUploadedFile("slides.pdf", PDF)
    )
    pad = material_add(workshop=workshop, actor=facilitator, title="Zq Pad", url="https://pad.example.net/zq")
    return slides, pad


def remove_url(material: WorkshopMaterial) -> str:
    return reverse("workshops:material_remove", args=[material.workshop_id, material.pk])


def test_material_remove_deletes_the_row_and_its_file(facilitator, workshop, materials):
    slides, pad = materials
    stored = slides.file.name
    assert default_storage.exists(stored)
    client = client_for(facilitator)
    before = text_of(client.get(reverse("workshops:materials", args=[workshop.pk])))
    assert "Zq Slides (slides.pdf, 48 bytes) Remove Zq Slides" in before

    response = client.post(remove_url(slides), follow=True)

    assert response.redirect_chain == [(reverse("workshops:materials", args=[workshop.pk]), 302)]
    body = text_of(response)
    assert "Material removed." in body
    assert "Zq Pad Remove Zq Pad" in body and "Zq Slides" not in body
    assert list(workshop.materials.values_list("title", flat=True)) == ["Zq Pad"]
    assert not default_storage.exists(stored)


def test_material_remove_of_a_link_leaves_the_files(facilitator, workshop, materials):
    slides, pad = materials

    client_for(facilitator).post(remove_url(pad))

    assert list(workshop.materials.values_list("title", flat=True)) == ["Zq Slides"]
    assert default_storage.exists(slides.file.name)


def test_material_remove_keeps_a_file_a_duplicated_workshop_still_uses(facilitator, workshop, materials):
    slides, _pad = materials
    copy = workshop_duplicate(workshop_id=workshop.pk, actor=facilitator)
    copied = copy.materials.get(title="Zq Slides")
    assert copied.file.name == slides.file.name
    client = client_for(facilitator)

    client.post(remove_url(slides))

    assert not WorkshopMaterial.objects.filter(pk=slides.pk).exists()
    assert default_storage.exists(copied.file.name)

    client.post(remove_url(copied))

    assert not default_storage.exists(copied.file.name)


def test_material_remove_by_another_facilitator_or_through_another_workshop_is_404(
    facilitator, other_facilitator, workshop, materials
):
    slides, _pad = materials
    theirs = WorkshopFactory(facilitators=[facilitator])

    stranger = client_for(other_facilitator).post(remove_url(slides))
    crossed = client_for(facilitator).post(reverse("workshops:material_remove", args=[theirs.pk, slides.pk]))
    by_get = client_for(facilitator).get(remove_url(slides))

    assert (stranger.status_code, crossed.status_code, by_get.status_code) == (404, 404, 405)
    assert WorkshopMaterial.objects.filter(pk=slides.pk).exists()
    assert default_storage.exists(slides.file.name)
