"""What each app does when a member leaves, asks for their data, or deletes
their account: the registry.

This spans every app, so it is ground: each app registers its part from its
AppConfig.ready (in INSTALLED_APPS order) and plnorg.privacy's services run
them in registration order. A test fails when a model with a foreign key to a
user or member is in neither the data registry nor `EXEMPT_MODELS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Each hook takes keyword arguments: member=..., and for offboarding also
# actor=... (the admin) and replacement=... (a Member or None).
OffboardingHook = Callable[..., None]
ExportHook = Callable[..., dict[str, Any]]
DeleteHook = Callable[..., None]


@dataclass(frozen=True)
class DataPart:
    """One app's share of a member's data: what it exports and how it deletes."""

    name: str
    models: tuple[str, ...]  # "app_label.ModelName" covered by this part
    export: ExportHook
    delete: DeleteHook


OFFBOARDING: list[tuple[str, OffboardingHook]] = []
DATA_PARTS: list[DataPart] = []

# Models with a foreign key to a user or member that deliberately are not part
# of a member's export/deletion, each with the reason. Django's and allauth's
# are listed here; each app adds its own with `register_exempt`.
EXEMPT_MODELS: dict[str, str] = {
    "admin.LogEntry": "Django admin's own change history of admins; kept for accountability.",
    "account.EmailAddress": "Deleted with the user by cascade; exported as part of the account.",
    "socialaccount.SocialAccount": "Deleted with the user by cascade; it holds the SSO link only.",
    "mfa.Authenticator": "Deleted with the user by cascade.",
    "usersessions.UserSession": "Deleted with the user by cascade.",
}


def register_offboarding(name: str, hook: OffboardingHook) -> None:
    if any(existing == name for existing, _ in OFFBOARDING):
        return
    OFFBOARDING.append((name, hook))


def register_data(part: DataPart) -> None:
    if any(existing.name == part.name for existing in DATA_PARTS):
        return
    DATA_PARTS.append(part)


def register_exempt(models: dict[str, str]) -> None:
    """An app's models that link to a user or member but are not a member's
    data ("app_label.ModelName": the reason)."""
    EXEMPT_MODELS.update(models)
