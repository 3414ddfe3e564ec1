"""Production settings: no start without a secret key, `check --deploy` clean.

Each case runs `manage.py` in a subprocess with an explicit environment (not
the test's), so only the variables named here are set.
"""

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
