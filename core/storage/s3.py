"""The S3 uploads storage, failing cleanly when the bucket cannot be reached.

A bucket that is missing, refuses our credentials or does not answer would
otherwise surface as a server error in the middle of an upload form. Here it
becomes a ValidationError people can act on: the form shows it, keeps what
was typed, and the surrounding transaction stores no row. The cause is logged
for the administrator. (core/storage/filesystem.py does the same for a full disk.)
"""

from __future__ import annotations

import logging

from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from storages.backends.s3 import S3Storage

log = logging.getLogger(__name__)


class SafeS3Storage(S3Storage):
    def save(self, name, content, max_length=None):
        # Storage.save also asks the bucket whether the name is taken, so
        # the whole call is guarded, not only the upload itself.
        try:
            return super().save(name, content, max_length=max_length)
        except (BotoCoreError, ClientError) as exc:
            log.error("storage unavailable: could not store %s in bucket %s (%s)", name, self.bucket_name, exc)
            raise ValidationError(
                _(
                    "The file store is not answering, so nothing was saved. Please try again in a few minutes, "
                    "and tell an administrator if it keeps happening."
                ),
                code="storage_unavailable",
            ) from exc
