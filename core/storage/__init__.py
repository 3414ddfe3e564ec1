"""Upload storages that fail cleanly: a full disk (`filesystem`) or an
unreachable S3 bucket (`s3`) becomes a form error, never a half-saved upload.
Settings pick one by dotted path (`STORAGES`)."""
