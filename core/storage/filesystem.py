"""File storage that fails cleanly when the disk is full.

Django's FileSystemStorage leaves the partly written file behind when a write
fails half-way (ENOSPC, a quota). Here that file is removed and the failure
becomes a ValidationError with a message people can act on, so the upload
form shows it and the surrounding transaction stores no row.
"""

from __future__ import annotations

import errno
import logging
import os

from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class SafeFileSystemStorage(FileSystemStorage):
    def _save(self, name, content):
        try:
            return super()._save(name, content)
        except OSError as exc:
            if exc.errno not in DISK_FULL:
                raise
            try:
                os.remove(self.path(name))
            except FileNotFoundError:
                pass
            log.error("storage full: could not store %s (%s)", name, exc)
            raise ValidationError(
                _("There is no room left to store this file, so nothing was saved. Please tell an administrator."),
                code="storage_full",
            ) from exc
