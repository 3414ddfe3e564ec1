"""Members and teams as SCIM resources: what a request body means (a
`UserState` / `GroupState`), what a response holds, and the attributes a
filter may name.

plnorg identifies people by email. userName is kept as the provider sends it
(Okta: usually the email; Entra ID: the userPrincipalName); the email is the
primary (else work, else first) address of `emails`, or userName when it is
an address. A member has one team, so adding someone to a group moves them
into that team. Attributes plnorg does not store (phone numbers, addresses,
the enterprise extension, passwords) are accepted and ignored, so the
providers' default attribute mappings work; no password is ever taken.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Prefetch, Q

from members.models import Member, Team, User

from .filters import Attribute
from .protocol import GROUP_SCHEMA, USER_SCHEMA, ScimError, location, resource_pk

NAME_CHARS = 120  # Member.display_name, Member.job_title, Team.name
USER_NAME_CHARS = 254
EXTERNAL_ID_CHARS = 255


# --- Values ------------------------------------------------------------------------


def lower_keys(value: dict[str, Any]) -> dict[str, Any]:
    """Attribute names are case-insensitive (RFC 7643 §2.1)."""
    return {str(k).lower(): v for k, v in value.items()}


def as_string(value: Any, attribute: str, max_chars: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ScimError(400, f"{attribute} must be a string.", scim_type="invalidValue")
    value = value.strip()
    if len(value) > max_chars:
        raise ScimError(400, f"{attribute} is longer than {max_chars} characters.", scim_type="invalidValue")
    return value


def as_active(value: Any) -> bool:
    """A JSON boolean, or "True"/"False" as Entra ID sends it."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ScimError(400, "active must be true or false.", scim_type="invalidValue")


def is_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def email_from(value: Any) -> str | None:
    """The address plnorg keeps from an `emails` value: the primary one, else
    the work one, else the first. None for an empty list."""
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ScimError(400, "emails must be a list of objects with a value.", scim_type="invalidValue")
    items = [lower_keys(i) for i in items]
    if not items:
        return None
    chosen = (
        next((i for i in items if i.get("primary") in (True, "true", "True")), None)
        or next((i for i in items if str(i.get("type", "")).lower() == "work"), None)
        or items[0]
    )
    return as_string(chosen.get("value"), "emails.value", USER_NAME_CHARS).lower()


def user_ids_from(value: Any) -> set[int]:
    """The user ids of a `members` value ([{"value": "42"}, ...])."""
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, list):
        raise ScimError(400, "members must be a list of objects with a value.", scim_type="invalidValue")
    ids = set()
    for item in items:
        raw = lower_keys(item).get("value") if isinstance(item, dict) else None
        pk = resource_pk(raw)
        if pk is None:
            raise ScimError(400, f"No user with id {raw!r}.", scim_type="invalidValue")
        ids.add(pk)
    return ids


def resource_version(resource: dict[str, Any]) -> str:
    """A weak ETag of a resource's content (meta left out): it changes exactly
    when something the provider can read changes, however it was changed."""
    content = json.dumps({k: v for k, v in resource.items() if k != "meta"}, sort_keys=True)
    return f'W/"{hashlib.sha256(content.encode()).hexdigest()[:20]}"'


def timestamp(value) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


def body_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ScimError(400, "The request body must be a JSON object.", scim_type="invalidSyntax")
    return lower_keys(body)


# --- Users -------------------------------------------------------------------------


@dataclass
class UserState:
    """Everything about a user that SCIM reads or writes."""

    user_name: str
    email: str
    external_id: str = ""
    given_name: str = ""
    family_name: str = ""
    display_name: str = ""
    title: str = ""
    active: bool = True

    def validated(self) -> UserState:
        if not self.user_name:
            raise ScimError(400, "userName is required.", scim_type="invalidValue")
        if not self.email:
            raise ScimError(
                400,
                "plnorg identifies people by email: send emails, or a userName that is an email address.",
                scim_type="invalidValue",
            )
        if not is_email(self.email):
            raise ScimError(400, f"{self.email!r} is not an email address.", scim_type="invalidValue")
        return self


def user_state_of(user: User) -> UserState:
    link = getattr(user, "scim", None)
    member = getattr(user, "member", None)
    return UserState(
        user_name=link.user_name if link and link.user_name else user.email,
        email=user.email,
        external_id=link.external_id if link else "",
        given_name=link.given_name if link else "",
        family_name=link.family_name if link else "",
        display_name=member.display_name if member else "",
        title=member.job_title if member else "",
        active=user.is_active,
    )


def user_state_from_body(body: Any, *, current: UserState | None) -> UserState:
    """The user a POST (`current` None) or PUT body describes. For a PUT,
    attributes left out are not asserted and keep their values (RFC 7644
    §3.5.1 lets the service provider choose); `null` clears one."""
    values = body_object(body)
    state = replace(current) if current else UserState(user_name="", email="")
    state.user_name = as_string(values.get("username"), "userName", USER_NAME_CHARS)
    if not state.user_name:
        raise ScimError(400, "userName is required.", scim_type="invalidValue")
    if "name" in values:
        name = values["name"] or {}
        if not isinstance(name, dict):
            raise ScimError(400, "name must be an object.", scim_type="invalidValue")
        name = lower_keys(name)
        state.given_name = as_string(name.get("givenname"), "name.givenName", NAME_CHARS)
        state.family_name = as_string(name.get("familyname"), "name.familyName", NAME_CHARS)
        formatted = as_string(name.get("formatted"), "name.formatted", NAME_CHARS)
    else:
        formatted = ""
    if "displayname" in values:
        state.display_name = as_string(values["displayname"], "displayName", NAME_CHARS)
    elif current is None:
        state.display_name = formatted or f"{state.given_name} {state.family_name}".strip()[:NAME_CHARS]
    if "title" in values:
        state.title = as_string(values["title"], "title", NAME_CHARS)
    if "externalid" in values:
        state.external_id = as_string(values["externalid"], "externalId", EXTERNAL_ID_CHARS)
    if "active" in values:
        state.active = as_active(values["active"])
    email = email_from(values["emails"]) if values.get("emails") is not None else None
    if email:
        state.email = email
    elif current is None:  # no address sent: userName, when it is one
        state.email = state.user_name.lower() if is_email(state.user_name) else ""
    return state.validated()


def _team_reference(team: Team | None) -> list[dict[str, str]]:
    if team is None or (getattr(team, "scim", None) and team.scim.deleted_at):
        return []
    return [{"value": str(team.pk), "$ref": location("group", resource_id=str(team.pk)), "display": team.name}]


def user_resource(user: User) -> dict[str, Any]:
    """A user as SCIM returns it (from a `scim_users()` row)."""
    state = user_state_of(user)
    link = getattr(user, "scim", None)
    member = getattr(user, "member", None)
    name = {"givenName": state.given_name, "familyName": state.family_name}
    name = {k: v for k, v in name.items() if v}
    name["formatted"] = f"{state.given_name} {state.family_name}".strip() or user.display_name
    resource: dict[str, Any] = {
        "schemas": [USER_SCHEMA],
        "id": str(user.pk),
        "userName": state.user_name,
        "name": name,
        "displayName": member.name if member else user.display_name,
        "emails": [{"value": user.email, "type": "work", "primary": True}],
        "active": user.is_active,
        "groups": _team_reference(member.team if member else None),
    }
    if state.external_id:
        resource["externalId"] = state.external_id
    if state.title:
        resource["title"] = state.title
    resource["meta"] = {
        "resourceType": "User",
        "created": timestamp(user.date_joined),
        "lastModified": timestamp(link.updated_at if link else user.date_joined),
        "location": location("user", resource_id=str(user.pk)),
        "version": resource_version(resource),
    }
    return resource


def _team_id_q(team_id: int) -> Q:
    return Q(member__team_id=team_id)


USER_ATTRIBUTES: dict[str, Attribute] = {
    "id": Attribute("id", lookup=lambda pk: Q(pk=pk)),
    "username": Attribute("string", "scim_user_name"),
    "externalid": Attribute("string", "scim__external_id", case_exact=True),
    "displayname": Attribute("string", "member__display_name"),
    "title": Attribute("string", "member__job_title"),
    "active": Attribute("boolean", "is_active"),
    "name.givenname": Attribute("string", "scim__given_name"),
    "name.familyname": Attribute("string", "scim__family_name"),
    "emails.value": Attribute("string", "email"),
    "emails.type": Attribute("constant", constant="work"),
    "emails.primary": Attribute("constant", constant=True),
    "groups.value": Attribute("id", lookup=_team_id_q, present=Q(member__team__isnull=False)),
    "groups.display": Attribute("string", "member__team__name"),
}


# --- Groups ------------------------------------------------------------------------


@dataclass
class GroupState:
    """Everything about a team that SCIM reads or writes."""

    display_name: str
    external_id: str = ""
    user_ids: set[int] = field(default_factory=set)


def scim_members_prefetch() -> Prefetch:
    """A team's members that are SCIM resources, as `team.scim_members`."""
    members = Member.objects.exclude(user__scim__deleted_at__isnull=False).select_related("user").order_by("user_id")
    return Prefetch("members", queryset=members, to_attr="scim_members")


def group_state_of(team: Team) -> GroupState:
    link = getattr(team, "scim", None)
    return GroupState(
        display_name=team.name,
        external_id=link.external_id if link else "",
        user_ids={m.user_id for m in team.scim_members},
    )


def group_state_from_body(body: Any, *, current: GroupState | None) -> GroupState:
    """The team a POST (`current` None) or PUT body describes (left-out
    attributes keep their values; `members` given replaces the members)."""
    values = body_object(body)
    state = replace(current, user_ids=set(current.user_ids)) if current else GroupState(display_name="")
    state.display_name = as_string(values.get("displayname"), "displayName", NAME_CHARS)
    if not state.display_name:
        raise ScimError(400, "displayName is required.", scim_type="invalidValue")
    if "externalid" in values:
        state.external_id = as_string(values["externalid"], "externalId", EXTERNAL_ID_CHARS)
    if values.get("members") is not None:
        state.user_ids = user_ids_from(values["members"])
    return state


def group_resource(team: Team) -> dict[str, Any]:
    """A team as SCIM returns it (`team.scim_members` prefetched)."""
    link = getattr(team, "scim", None)
    resource: dict[str, Any] = {
        "schemas": [GROUP_SCHEMA],
        "id": str(team.pk),
        "displayName": team.name,
        "members": [
            {
                "value": str(m.user_id),
                "$ref": location("user", resource_id=str(m.user_id)),
                "display": m.name,
            }
            for m in team.scim_members
        ],
    }
    if link and link.external_id:
        resource["externalId"] = link.external_id
    meta: dict[str, Any] = {"resourceType": "Group"}
    if link:
        meta |= {"created": timestamp(link.created_at), "lastModified": timestamp(link.updated_at)}
    meta["location"] = location("group", resource_id=str(team.pk))
    meta["version"] = resource_version(resource)
    resource["meta"] = meta
    return resource


def _member_q(user_id: int) -> Q:
    return Q(pk__in=Member.objects.filter(user_id=user_id).values("team_id"))


GROUP_ATTRIBUTES: dict[str, Attribute] = {
    "id": Attribute("id", lookup=lambda pk: Q(pk=pk)),
    "displayname": Attribute("string", "name"),
    "externalid": Attribute("string", "scim__external_id", case_exact=True),
    "members.value": Attribute(
        "id", lookup=_member_q, present=Q(pk__in=Member.objects.filter(team__isnull=False).values("team_id"))
    ),
}
