"""Checking uploaded files by their content, and serving them safely.

Only PDF, PNG, JPEG, plain text / Markdown and office documents are accepted.
The type comes from the bytes (the `filetype` package, then a text sniff), never
from the name or the browser's claim: an HTML page, an SVG image or a script
is refused even when it is called `notes.txt` or `slides.pdf`. Files are
served by a permission-checked view as downloads with `nosniff`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse
from django.template.defaultfilters import filesizeformat
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

# MIME type detected by `filetype` -> extension we store.
ALLOWED_BINARY = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
    "application/msword": "doc",
    "application/vnd.ms-excel": "xls",
    "application/vnd.ms-powerpoint": "ppt",
}
SNIFF_BYTES = 64 * 1024
# Markup and script signatures refused in "text" files (checked case-insensitively).
_ACTIVE_TEXT = re.compile(
    rb"<\s*(?:!doctype|html|head|body|script|svg|iframe|object|embed|meta|link|style|form|img|a\s)"
    rb"|<[a-z][^>]*\son[a-z]+\s*=|<\?(?:xml|php)|<%|javascript:|vbscript:",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CheckedUpload:
    file_name: str
    content_type: str
    size_bytes: int


def _text_kind(head: bytes) -> str | None:
    """ "text/markdown"-ish plain text, or None when the bytes are not plain,
    harmless UTF-8 text."""
    if b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the sniff boundary is fine.
        if exc.start < len(head) - 4:
            return None
        text = head[: exc.start].decode("utf-8")
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith(("#!", "<")):
        return None
    if _ACTIVE_TEXT.search(head):
        return None
    if any(ord(ch) < 32 and ch not in "\t\r\n\f" for ch in text):
        return None
    return "text/plain"


def upload_check(upload: UploadedFile) -> CheckedUpload:
    """Validate an uploaded file by content and size; raise ValidationError
    with a message for the facilitator otherwise."""
    limit = settings.WORKSHOP_UPLOAD_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            _("The file is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
            code="too_large",
        )
    if not upload.size:
        raise ValidationError(_("The file is empty."), code="empty")
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    kind = filetype.guess(head)
    base = PurePath(get_valid_filename(PurePath(upload.name or "file").name) or "file").stem[:120] or "file"
    if kind is not None:
        extension = ALLOWED_BINARY.get(kind.mime)
        if extension is None:
            raise ValidationError(
                _("Files of this type (%(type)s) are not accepted. Upload a PDF, PNG, JPEG, text or office document.")
                % {"type": kind.mime},
                code="refused_type",
            )
        return CheckedUpload(file_name=f"{base}.{extension}", content_type=kind.mime, size_bytes=upload.size)
    # Whole text files are sniffed, not just their first bytes.
    content = upload.read()
    upload.seek(0)
    if _text_kind(content) is None:
        raise ValidationError(
            _(
                "This file is not accepted: only PDF, PNG, JPEG, plain text or Markdown and office documents. "
                "Web pages, SVG images and scripts are refused whatever their name."
            ),
            code="refused_type",
        )
    is_markdown = (upload.name or "").lower().endswith((".md", ".markdown"))
    extension = "md" if is_markdown else "txt"
    content_type = "text/markdown" if is_markdown else "text/plain"
    return CheckedUpload(file_name=f"{base}.{extension}", content_type=content_type, size_bytes=upload.size)


def file_response(field_file, *, file_name: str, content_type: str) -> FileResponse:
    """Serve a stored file as a download that browsers never render or sniff."""
    if content_type.startswith("text/"):
        content_type = f"{content_type}; charset=utf-8"
    response = FileResponse(field_file.open("rb"), as_attachment=True, filename=file_name, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
