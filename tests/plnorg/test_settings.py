"""Production settings: no start without a secret key, `check --deploy` clean,
uploads on disk or in an S3 bucket.

Each case runs `manage.py` in a subprocess with an explicit environment (not
the test's), so only the variables named here are set.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(120)

PRODUCTION = {
    "DEBUG": "0",
    "DATABASE_URL": "postgres://plnorg@127.0.0.1:5432/plnorg",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
    "ALLOWED_HOSTS": "plnorg.example.com",
    "SECURE_HSTS_SECONDS": "31536000",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "PYTHONDONTWRITEBYTECODE": "1", **env},
        capture_output=True,
        text=True,
        timeout=90,
    )


def env_example() -> dict[str, str]:
    """The variables documented in .env.example, as a deployment would set them."""
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    return values


def test_debug_off_without_a_secret_key_refuses_to_start():
    # SECRET_KEY present but empty also wins over any local .env file.
    result = manage("check", env={**PRODUCTION, "SECRET_KEY": ""})

    assert result.returncode == 1
    assert "django.core.exceptions.ImproperlyConfigured: SECRET_KEY is not set." in result.stderr
    assert "plnorg refuses to start without a secret key when DEBUG is off." in result.stderr


def test_check_deploy_is_clean_with_the_production_variables():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION, "SECRET_KEY": secrets.token_urlsafe(50)}
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("System check identified no issues (")
    assert "silenced)." in result.stdout


def test_check_deploy_is_clean_with_env_example_and_a_secret_key():
    values = env_example()
    assert values["SECRET_KEY"] == ""  # the example holds no secret

    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", env={**values, "SECRET_KEY": secrets.token_urlsafe(50)}
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("System check identified no issues (")


def test_check_deploy_fails_with_debug_on_in_production():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={**PRODUCTION, "DEBUG": "1", "SECRET_KEY": secrets.token_urlsafe(50)},
    )

    assert result.returncode == 1
    assert "(security.W018) You should not have DEBUG set to True in deployment." in result.stderr


DESCRIBE_CLIENT_IP = """
from allauth.account.adapter import get_adapter
from django.test import RequestFactory
from members.audit import client_ip
request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7")
print(get_adapter(request).get_client_ip(request), client_ip(request))
"""


@pytest.mark.parametrize(
    ("trusted_proxy_count", "seen"),
    [
        ("1", "198.51.100.7 198.51.100.7"),  # .env.example: behind one TLS proxy
        ("2", "203.0.113.9 203.0.113.9"),  # two proxies of ours: the first one's peer
        (None, "10.0.0.2 10.0.0.2"),  # unset (no proxy): the header is ignored
    ],
)
def test_trusted_proxy_count_decides_the_client_address_for_sign_in_limits_and_the_audit_log(trusted_proxy_count, seen):
    env = {**PRODUCTION, "SECRET_KEY": secrets.token_urlsafe(50)}
    if trusted_proxy_count is not None:
        env["TRUSTED_PROXY_COUNT"] = trusted_proxy_count
    assert env_example()["TRUSTED_PROXY_COUNT"] == "1"

    result = manage("shell", "-v", "0", "-c", DESCRIBE_CLIENT_IP, env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == seen


DESCRIBE_UPLOADS_STORAGE = """
import json
from django.core.files.storage import storages
s = storages["default"]
fields = ("bucket_name", "endpoint_url", "region_name", "access_key", "secret_key", "addressing_style",
          "default_acl", "querystring_auth", "file_overwrite", "location")
print(json.dumps({"class": f"{type(s).__module__}.{type(s).__qualname__}",
                  **{f: getattr(s, f, None) for f in fields}}))
"""


def uploads_storage_in(env: dict[str, str]) -> dict:
    result = manage("shell", "-v", "0", "-c", DESCRIBE_UPLOADS_STORAGE, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_uploads_go_to_s3_when_s3_bucket_is_set():
    storage = uploads_storage_in(
        {
            **PRODUCTION,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "S3_BUCKET": "plnorg-uploads",
            "S3_ENDPOINT_URL": "https://s3.example.com:9000",
            "S3_REGION": "eu-central-1",
            "S3_ACCESS_KEY_ID": "AKIDEXAMPLE",
            "S3_SECRET_ACCESS_KEY": "example-secret",
            "S3_ADDRESSING_STYLE": "path",
        }
    )

    assert storage == {
        "class": "core.storage.s3.SafeS3Storage",
        "bucket_name": "plnorg-uploads",
        "endpoint_url": "https://s3.example.com:9000",
        "region_name": "eu-central-1",
        "access_key": "AKIDEXAMPLE",
        "secret_key": "example-secret",
        "addressing_style": "path",
        "default_acl": "private",
        "querystring_auth": True,
        "file_overwrite": False,
        "location": "",
    }


def test_uploads_stay_on_disk_without_s3_bucket():
    # S3_BUCKET present but empty, as in .env.example (and over any local .env).
    storage = uploads_storage_in({**PRODUCTION, "SECRET_KEY": secrets.token_urlsafe(50), "S3_BUCKET": ""})

    assert storage["class"] == "core.storage.filesystem.SafeFileSystemStorage"
