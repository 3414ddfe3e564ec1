"""factory_boy factories for the workshops app."""

from datetime import timedelta

import factory
from django.utils import timezone

from tests.factories import MemberFactory
from workshops.models import Registration, Resource, Topic, Workshop, WorkshopSession


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")


class WorkshopFactory(factory.django.DjangoModelFactory):
    """A published workshop with one in-person session a week from now.
    `starts_in` (a timedelta) moves the session; `sessions=0` gives none."""

    class Meta:
        model = Workshop
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Workshop {n}")
    description = "Learn **together**."
    capacity = 10
    status = Workshop.Status.PUBLISHED

    @factory.post_generation
    def sessions(obj, create, extracted, **kwargs):
        if not create:
            return
        count = 1 if extracted is None else extracted
        starts_in = kwargs.get("starts_in", timedelta(days=7))
        mode = kwargs.get("mode", WorkshopSession.Mode.IN_PERSON)
        for index in range(count):
            start = timezone.now() + starts_in + timedelta(days=7 * index)
            WorkshopSession.objects.create(
                workshop=obj,
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                time_zone="Europe/Paris",
                mode=mode,
                room="Room 1" if mode == WorkshopSession.Mode.IN_PERSON else "",
                online_url="https://meet.example.com/secret-room" if mode == WorkshopSession.Mode.ONLINE else "",
            )

    @factory.post_generation
    def facilitators(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.facilitators.set(extracted)


class RegistrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Registration

    workshop = factory.SubFactory(WorkshopFactory)
    member = factory.SubFactory(MemberFactory)
    status = Registration.Status.REGISTERED


class ResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resource

    title = factory.Sequence(lambda n: f"Resource {n}")
    kind = Resource.Kind.GUIDE
    url = factory.Sequence(lambda n: f"https://guides.example.net/{n}")


def material_post(facilitator, workshop: Workshop, upload, *, title: str = "Slides"):
    """Add ``upload`` (a SimpleUploadedFile) to the workshop's materials as a
    facilitator would, through the materials page; returns the response."""
    from django.urls import reverse

    from tests.pages import client_for

    return client_for(facilitator).post(
        reverse("workshops:materials", kwargs={"pk": workshop.pk}), {"title": title, "url": "", "file": upload}
    )
