"""Uploads are checked by content and served only to those allowed."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.factories import MemberFactory
from tests.pages import text_of
from tests.workshops.factories import RegistrationFactory, WorkshopFactory, material_post
from workshops.models import Resource, WorkshopMaterial
from workshops.services.workshop import material_add, resource_add
from workshops.uploads import upload_check

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    return tmp_path


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("slides.pdf", PDF, ("slides.pdf", "application/pdf")),
        ("photo.png", PNG, ("photo.png", "image/png")),
        ("notes.txt", "Read these notes — café".encode(), ("notes.txt", "text/plain")),
        ("guide.md", b"# Guide\n\n* one\n* two\n", ("guide.md", "text/markdown")),
        ("weird.bin", PDF, ("weird.pdf", "application/pdf")),
    ],
)
def test_accepted_by_content(name, content, expected):
    checked = upload_check(SimpleUploadedFile(name, content))

    assert (checked.file_name, checked.content_type) == expected


def test_office_document_accepted():
    checked = upload_check(SimpleUploadedFile("plan.docx", docx_bytes()))

    assert checked.content_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("page.html", b"<!doctype html><html><script>alert(1)</script></html>"),
        ("notes.txt", b"  <html><body>hi</body></html>"),
        ("image.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("drawing.pdf", b'<?xml version="1.0"?><svg/>'),
        ("run.txt", b"#!/bin/sh\nrm -rf /\n"),
        ("readme.md", b"hello <img src=x onerror=alert(1)>"),
        ("app.txt", b"\x7fELF\x02\x01\x01" + b"\x00" * 60),
        ("archive.pdf", b"PK\x03\x04" + b"\x00" * 60),
        ("blob.txt", b"\x00\x01\x02binary"),
    ],
)
def test_refused_even_when_renamed(name, content):
    with pytest.raises(ValidationError):
        upload_check(SimpleUploadedFile(name, content))


def test_size_limit(settings):
    settings.WORKSHOP_UPLOAD_MAX_BYTES = 10

    with pytest.raises(ValidationError) as refused:
        upload_check(SimpleUploadedFile("big.txt", b"x" * 50))

    assert refused.value.messages == ["The file is 50\xa0bytes; the limit is 10\xa0bytes."]


@pytest.mark.django_db
def test_refused_upload_saves_nothing(facilitator, media):
    workshop = WorkshopFactory(facilitators=[facilitator])
    upload = SimpleUploadedFile("slides.pdf", b"<html><script>x</script></html>", content_type="application/pdf")

    response = material_post(facilitator, workshop, upload)

    assert "Web pages, SVG images and scripts are refused" in text_of(response)
    assert not WorkshopMaterial.objects.filter(workshop=workshop).exists()
    assert list(media.rglob("*.*")) == []


@pytest.mark.django_db
def test_material_file_served_only_to_seat_holders_and_facilitators(facilitator):
    workshop = WorkshopFactory(facilitators=[facilitator])
    material = material_add(
        workshop=workshop, actor=facilitator, title="Slides", upload=SimpleUploadedFile("s.pdf", PDF)
    )
    registered = RegistrationFactory(workshop=workshop).member.user
    waiting = RegistrationFactory(workshop=workshop, status="waitlisted", waitlist_position=1).member.user
    outsider = MemberFactory().user
    url = reverse("workshops:material_file", kwargs={"pk": material.pk})

    def get(user):
        client = Client()
        if user:
            client.force_login(user)
        return client.get(url)

    ok = get(registered)
    assert ok.status_code == 200
    assert b"".join(ok.streaming_content) == PDF
    assert ok["Content-Disposition"] == 'attachment; filename="s.pdf"'
    assert ok["X-Content-Type-Options"] == "nosniff"
    assert ok["Content-Type"] == "application/pdf"
    assert get(facilitator).status_code == 200
    assert get(waiting).status_code == 404
    assert get(outsider).status_code == 404
    assert get(None).status_code == 302


@pytest.mark.django_db
def test_resource_file_for_members_as_text_attachment(facilitator):
    resource = resource_add(
        actor=facilitator,
        title="Checklist",
        kind=Resource.Kind.HOW_TO_START,
        upload=SimpleUploadedFile("c.md", b"# Hi\n"),
    )
    client = Client()
    client.force_login(MemberFactory().user)

    response = client.get(reverse("workshops:resource_file", kwargs={"pk": resource.pk}))

    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="c.md"'
    assert response["X-Content-Type-Options"] == "nosniff"
