"""The resource library: references, guides and "how to start" material."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .workshop import Topic


def resource_upload_to(instance, filename: str) -> str:
    return f"workshops/resources/{secrets.token_hex(8)}/{filename}"


class Resource(models.Model):
    class Kind(models.TextChoices):
        REFERENCE = "reference", _("Reference")
        GUIDE = "guide", _("Guide")
        HOW_TO_START = "how_to_start", _("How to start")

    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=14, choices=Kind.choices, default=Kind.REFERENCE)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    url = models.URLField(_("link"), max_length=1000, blank=True)
    file = models.FileField(_("file"), upload_to=resource_upload_to, blank=True, max_length=300)
    file_name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=120, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    topic = models.ForeignKey(
        Topic, verbose_name=_("topic"), null=True, blank=True, on_delete=models.SET_NULL, related_name="resources"
    )
    audience = models.CharField(_("audience"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("resource")
        verbose_name_plural = _("resources")

    def __str__(self) -> str:
        return self.title
