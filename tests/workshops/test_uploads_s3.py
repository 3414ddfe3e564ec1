"""Uploads in an S3 bucket (S3_BUCKET set): the same upload forms, the same
content checks, private objects, the same permission-checked downloads.

The bucket is moto's in-process S3 (nothing leaves the process); the storage is
configured by `plnorg.settings.uploads_storage`, as production builds it.
"""

import boto3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from moto import mock_aws

from plnorg.settings import uploads_storage
from tests.factories import MemberFactory
from tests.pages import client_for, text_of
from tests.workshops.factories import RegistrationFactory, WorkshopFactory, material_post
from workshops.models import Resource, WorkshopMaterial

BUCKET = "plnorg-uploads"
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
OWNER_ONLY = [{"Permission": "FULL_CONTROL"}]


@pytest.fixture
def s3(settings, tmp_path):
    """An empty bucket, and plnorg's uploads storage pointed at it."""
    settings.MEDIA_ROOT = tmp_path  # must stay empty: nothing goes to disk
    with mock_aws():
        client = boto3.client(
            "s3", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        client.create_bucket(Bucket=BUCKET)
        settings.STORAGES = {
            **settings.STORAGES,
            "default": uploads_storage(
                s3_bucket=BUCKET, s3_region="us-east-1", s3_access_key_id="testing", s3_secret_access_key="testing"
            ),
        }
        yield client


def bucket_keys(client) -> list[str]:
    return [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def grants(client, key: str) -> list[dict]:
    return [{"Permission": g["Permission"]} for g in client.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]]


@pytest.mark.django_db
def test_material_upload_is_stored_privately_in_the_bucket(s3, facilitator, tmp_path):
    workshop = WorkshopFactory(facilitators=[facilitator])

    response = material_post(facilitator, workshop, SimpleUploadedFile("Week 1 slides.pdf", PDF))

    assert response.status_code == 302
    material = WorkshopMaterial.objects.get(workshop=workshop)
    assert (material.title, material.file_name, material.content_type, material.size_bytes) == (
        "Slides",
        "Week_1_slides.pdf",
        "application/pdf",
        len(PDF),
    )
    assert material.file.name.startswith("workshops/materials/")
    assert bucket_keys(s3) == [material.file.name]
    assert s3.get_object(Bucket=BUCKET, Key=material.file.name)["Body"].read() == PDF
    assert grants(s3, material.file.name) == OWNER_ONLY
    assert list(tmp_path.rglob("*")) == []


@pytest.mark.django_db
def test_material_in_the_bucket_is_served_only_to_seat_holders(s3, facilitator):
    workshop = WorkshopFactory(facilitators=[facilitator])
    material_post(facilitator, workshop, SimpleUploadedFile("s.pdf", PDF))
    material = WorkshopMaterial.objects.get(workshop=workshop)
    registered, outsider = Client(), Client()
    registered.force_login(RegistrationFactory(workshop=workshop).member.user)
    outsider.force_login(MemberFactory().user)
    url = reverse("workshops:material_file", kwargs={"pk": material.pk})

    ok = registered.get(url)

    assert b"".join(ok.streaming_content) == PDF
    assert ok["Content-Disposition"] == 'attachment; filename="s.pdf"'
    assert ok["Content-Type"] == "application/pdf"
    assert ok["X-Content-Type-Options"] == "nosniff"
    assert outsider.get(url).status_code == 404


def resource_post(facilitator, upload):
    """Add ``upload`` to the resource library through its form."""
    return client_for(facilitator).post(
        reverse("workshops:resource_create"),
        {"title": "Getting started", "kind": Resource.Kind.HOW_TO_START, "description": "", "url": "",
         "audience": "", "file": upload},
    )  # fmt: skip


@pytest.mark.django_db
def test_resource_upload_is_stored_in_the_bucket(s3, facilitator):
    response = resource_post(facilitator, SimpleUploadedFile("start.md", b"# Start here\n\nFollow five people.\n"))

    assert response.status_code == 302
    resource = Resource.objects.get(title="Getting started")
    assert (resource.file_name, resource.content_type) == ("start.md", "text/markdown")
    assert bucket_keys(s3) == [resource.file.name]
    assert (
        s3.get_object(Bucket=BUCKET, Key=resource.file.name)["Body"].read() == b"# Start here\n\nFollow five people.\n"
    )
    assert grants(s3, resource.file.name) == OWNER_ONLY


@pytest.mark.django_db
def test_refused_upload_puts_nothing_in_the_bucket(s3, facilitator):
    workshop = WorkshopFactory(facilitators=[facilitator])
    disguised = SimpleUploadedFile("slides.pdf", b"<html><script>x</script></html>", content_type="application/pdf")

    response = material_post(facilitator, workshop, disguised)

    assert "Web pages, SVG images and scripts are refused" in text_of(response)
    assert not WorkshopMaterial.objects.filter(workshop=workshop).exists()
    assert bucket_keys(s3) == []


@pytest.fixture
def missing_bucket(s3, settings):
    """The storage points at a bucket that does not exist (deleted, or a typo
    in S3_BUCKET): every write is refused by the service."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": uploads_storage(
            s3_bucket="no-such-bucket",
            s3_region="us-east-1",
            s3_access_key_id="testing",
            s3_secret_access_key="testing",
        ),
    }
    return s3


UNAVAILABLE = (
    "The file store is not answering, so nothing was saved. Please try again in a few minutes, "
    "and tell an administrator if it keeps happening."
)


@pytest.mark.django_db
def test_material_upload_to_an_unreachable_bucket_says_so_and_keeps_the_form(missing_bucket, facilitator, caplog):
    workshop = WorkshopFactory(facilitators=[facilitator])

    response = material_post(facilitator, workshop, SimpleUploadedFile("slides.pdf", PDF), title="Week 1 slides")

    assert response.status_code == 200
    assert UNAVAILABLE in text_of(response)
    assert 'value="Week 1 slides"' in response.content.decode()  # what was typed is kept
    assert not WorkshopMaterial.objects.filter(workshop=workshop).exists()
    assert bucket_keys(missing_bucket) == []
    assert "in bucket no-such-bucket (An error occurred (NoSuchBucket)" in caplog.text  # for the administrator


@pytest.mark.django_db
def test_resource_upload_to_an_unreachable_bucket_says_so(missing_bucket, facilitator):
    response = resource_post(facilitator, SimpleUploadedFile("start.md", b"# Start here\n"))

    assert response.status_code == 200
    assert UNAVAILABLE in text_of(response)
    assert not Resource.objects.filter(title="Getting started").exists()
