"""PATCH (RFC 7644 §3.5.2) as Okta and Microsoft Entra ID send it, applied to
a `UserState` / `GroupState` (nothing is written here: the services save the
resulting state in one transaction, or nothing when an operation is refused).

Both providers' forms are understood: Okta's `{"op": "replace", "value":
{"active": false}}` (no path, an object of attributes), Entra ID's
`{"op": "Replace", "path": "active", "value": "False"}` (capitalised ops,
booleans as strings), `emails[type eq "work"].value`, and group members as
`{"op": "Add"/"Remove", "path": "members", "value": [{"value": "42"}]}` or
Okta's `{"op": "remove", "path": "members[value eq \"42\"]"}`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from .filters import FilterError, Node, filter_matches, filter_parse
from .protocol import GROUP_SCHEMA, USER_SCHEMA, ScimError
from .resources import (
    EXTERNAL_ID_CHARS,
    NAME_CHARS,
    USER_NAME_CHARS,
    GroupState,
    UserState,
    as_active,
    as_string,
    email_from,
    lower_keys,
    user_ids_from,
)

OPS = frozenset({"add", "remove", "replace"})
READ_ONLY = frozenset({"id", "meta", "schemas", "groups"})
_PATH = re.compile(r"(?P<attr>[A-Za-z$][\w$-]*)(?:\[(?P<filter>.+)\])?(?:\.(?P<sub>[A-Za-z$][\w$-]*))?")


@dataclass(frozen=True)
class PatchPath:
    attribute: str  # lowercase; "" for an attribute of another schema (not stored, ignored)
    value_filter: Node | None = None
    sub_attribute: str = ""  # lowercase


def patch_path_parse(path: str, *, schema: str) -> PatchPath:
    if not isinstance(path, str) or not path.strip():
        raise ScimError(400, "path must be a non-empty string.", scim_type="invalidPath")
    text = path.strip()
    if text.lower().startswith(schema.lower() + ":"):
        text = text[len(schema) + 1 :]
    elif text.lower().startswith("urn:"):
        return PatchPath("")  # the enterprise extension and the like: not stored
    match = _PATH.fullmatch(text)
    if match is None:
        raise ScimError(400, f"{path!r} is not an attribute path.", scim_type="invalidPath")
    value_filter = None
    if match["filter"]:
        try:
            value_filter = filter_parse(match["filter"], schema="")
        except FilterError as exc:
            raise ScimError(
                400, f"The filter in {path!r} is not valid: {exc.detail}", scim_type="invalidPath"
            ) from None
    return PatchPath(match["attr"].lower(), value_filter, (match["sub"] or "").lower())


def patch_operations(body: Any) -> list[tuple[str, str | None, Any]]:
    """(op, path, value) for each operation, op in lowercase."""
    if not isinstance(body, dict):
        raise ScimError(400, "The request body must be a JSON object.", scim_type="invalidSyntax")
    operations = lower_keys(body).get("operations")
    if not isinstance(operations, list) or not operations:
        raise ScimError(400, "A PATCH needs a non-empty Operations list.", scim_type="invalidSyntax")
    parsed = []
    for operation in operations:
        if not isinstance(operation, dict):
            raise ScimError(400, "Each operation must be an object.", scim_type="invalidSyntax")
        operation = lower_keys(operation)
        op = operation.get("op")
        if not isinstance(op, str) or op.lower() not in OPS:
            raise ScimError(400, f"Unknown PATCH op {op!r}: use add, remove or replace.", scim_type="invalidSyntax")
        path = operation.get("path")
        if path is not None and not isinstance(path, str):
            raise ScimError(400, "path must be a string.", scim_type="invalidPath")
        parsed.append((op.lower(), path or None, operation.get("value")))
    return parsed


def _attribute_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ScimError(400, "An operation without a path needs an object as its value.", scim_type="invalidValue")
    return value


# --- Users -------------------------------------------------------------------------


def user_state_patch(state: UserState, operations: list[tuple[str, str | None, Any]]) -> UserState:
    state = replace(state)
    for op, path, value in operations:
        if path is None:
            if op == "remove":
                raise ScimError(400, "A remove operation needs a path.", scim_type="noTarget")
            _user_set_all(state, _attribute_object(value))
        elif op == "remove":
            _user_clear(state, patch_path_parse(path, schema=USER_SCHEMA))
        else:
            _user_set(state, patch_path_parse(path, schema=USER_SCHEMA), value)
    return state.validated()


def _user_set_all(state: UserState, values: dict[str, Any]) -> None:
    for key, value in values.items():
        if str(key).lower() == USER_SCHEMA.lower() and isinstance(value, dict):
            _user_set_all(state, value)
        else:
            _user_set(state, patch_path_parse(str(key), schema=USER_SCHEMA), value)


def _work_address_targeted(state: UserState, target: PatchPath) -> bool:
    """Whether a value filter (`emails[type eq "work"]`) selects the one
    address plnorg keeps (a work, primary address)."""
    if target.value_filter is None:
        return True
    return filter_matches(target.value_filter, {"value": state.email, "type": "work", "primary": True})


def _user_set(state: UserState, target: PatchPath, value: Any) -> None:
    attribute, sub = target.attribute, target.sub_attribute
    if attribute == "username":
        state.user_name = as_string(value, "userName", USER_NAME_CHARS)
        if not state.user_name:
            raise ScimError(400, "userName cannot be empty.", scim_type="invalidValue")
    elif attribute == "displayname":
        state.display_name = as_string(value, "displayName", NAME_CHARS)
    elif attribute == "title":
        state.title = as_string(value, "title", NAME_CHARS)
    elif attribute == "externalid":
        state.external_id = as_string(value, "externalId", EXTERNAL_ID_CHARS)
    elif attribute == "active":
        state.active = as_active(value)
    elif attribute == "name":
        parts = {sub: value} if sub else lower_keys(_attribute_object(value))
        if "givenname" in parts:
            state.given_name = as_string(parts["givenname"], "name.givenName", NAME_CHARS)
        if "familyname" in parts:
            state.family_name = as_string(parts["familyname"], "name.familyName", NAME_CHARS)
    elif attribute == "emails" and _work_address_targeted(state, target):
        if sub == "value":
            email = as_string(value, "emails.value", USER_NAME_CHARS).lower()
        elif sub:
            return  # type / primary: plnorg keeps one work address
        else:
            email = email_from(value)
        if not email:
            raise ScimError(400, "plnorg needs an email address.", scim_type="invalidValue")
        state.email = email
    # Anything else (read-only attributes, phone numbers, addresses, the
    # enterprise extension) is not stored and is ignored.


def _user_clear(state: UserState, target: PatchPath) -> None:
    attribute, sub = target.attribute, target.sub_attribute
    required = {"username": "userName", "active": "active", "emails": "emails"}
    if attribute in ("username", "active") or (attribute == "emails" and _work_address_targeted(state, target)):
        raise ScimError(400, f"{required[attribute]} cannot be removed: plnorg needs it.", scim_type="mutability")
    if attribute == "displayname":
        state.display_name = ""
    elif attribute == "title":
        state.title = ""
    elif attribute == "externalid":
        state.external_id = ""
    elif attribute == "name":
        if sub in ("", "givenname"):
            state.given_name = ""
        if sub in ("", "familyname"):
            state.family_name = ""


# --- Groups ------------------------------------------------------------------------


def group_state_patch(state: GroupState, operations: list[tuple[str, str | None, Any]]) -> GroupState:
    state = replace(state, user_ids=set(state.user_ids))
    for op, path, value in operations:
        if path is None:
            if op == "remove":
                raise ScimError(400, "A remove operation needs a path.", scim_type="noTarget")
            for key, item in _attribute_object(value).items():
                _group_apply(state, op, patch_path_parse(str(key), schema=GROUP_SCHEMA), item)
        else:
            _group_apply(state, op, patch_path_parse(path, schema=GROUP_SCHEMA), value)
    return state


def _group_apply(state: GroupState, op: str, target: PatchPath, value: Any) -> None:
    attribute = target.attribute
    if attribute == "members":
        _members_apply(state, op, target, value)
    elif attribute == "displayname":
        if op == "remove":
            raise ScimError(400, "displayName cannot be removed: a team needs a name.", scim_type="mutability")
        state.display_name = as_string(value, "displayName", NAME_CHARS)
        if not state.display_name:
            raise ScimError(400, "displayName cannot be empty.", scim_type="invalidValue")
    elif attribute == "externalid":
        state.external_id = "" if op == "remove" else as_string(value, "externalId", EXTERNAL_ID_CHARS)
    # Read-only attributes (Okta sends "id" with a rename) and anything else: ignored.


def _members_apply(state: GroupState, op: str, target: PatchPath, value: Any) -> None:
    if target.sub_attribute or (target.value_filter is not None and op != "remove"):
        raise ScimError(
            400, "Members are added or replaced by value, and removed by value or by a filter.", scim_type="invalidPath"
        )
    if op == "add":
        state.user_ids |= user_ids_from(value)
    elif op == "replace":
        state.user_ids = user_ids_from(value)
    elif target.value_filter is not None:  # Okta: members[value eq "42"]
        state.user_ids = {i for i in state.user_ids if not filter_matches(target.value_filter, {"value": str(i)})}
    elif value is not None:  # Entra ID: the members to remove as the value
        state.user_ids -= user_ids_from(value)
    else:
        state.user_ids = set()
