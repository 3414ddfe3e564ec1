"""SCIM filters (RFC 7644 §3.4.2.2): parsed into a small tree, then turned
into a Django Q object over the attributes a resource declares.

The grammar: comparisons `attr op value` (eq, ne, co, sw, ew, gt, ge, lt,
le) and `attr pr`; `and`, `or` (and binds tighter), `not (...)`, grouping
parentheses, and value paths `emails[type eq "work"]`. Attribute names and
operators are case-insensitive; values are JSON literals. The same tree is
evaluated in Python (`filter_matches`) for the value paths of PATCH
(`members[value eq "42"]`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from .protocol import ScimError, resource_pk

MAX_FILTER_CHARS = 2000
MAX_DEPTH = 20
COMPARE_OPS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"})
NOTHING = Q(pk__in=[])

_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_TOKEN = re.compile(r'\s*(?:(?P<punct>[()\[\]])|(?P<string>"(?:[^"\\]|\\.)*")|(?P<word>[^\s()\[\]"]+))')


class FilterError(ScimError):
    def __init__(self, detail: str) -> None:
        super().__init__(400, detail, scim_type="invalidFilter")


# --- The tree ----------------------------------------------------------------------


@dataclass(frozen=True)
class Compare:
    path: str  # lowercase, schema URN removed: "username", "name.givenname"
    op: str  # lowercase: eq, ne, co, sw, ew, gt, ge, lt, le, pr
    value: Any = None


@dataclass(frozen=True)
class Logical:
    op: str  # "and" / "or"
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    inner: Node


@dataclass(frozen=True)
class ValuePath:
    path: str  # the multi-valued attribute, e.g. "emails"
    inner: Node  # over its sub-attributes


Node = Compare | Logical | Not | ValuePath


# --- Parsing -----------------------------------------------------------------------


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while text[position:].strip():
        match = _TOKEN.match(text, position)
        if match is None:
            raise FilterError(f"The filter could not be read at {text[position:][:20]!r}.")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, schema: str) -> None:
        self.tokens = _tokens(text)
        self.position = 0
        self.schema_prefix = schema.lower() + ":"

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise FilterError("The filter ends too early.")
        self.position += 1
        return token

    def expect(self, punct: str) -> None:
        kind, value = self.take()
        if (kind, value) != ("punct", punct):
            raise FilterError(f"Expected {punct!r} in the filter, found {value!r}.")

    def keyword(self) -> str:
        token = self.peek()
        return token[1].lower() if token and token[0] == "word" else ""

    def parse(self) -> Node:
        node = self.or_expression(0)
        if self.peek() is not None:
            raise FilterError(f"Unexpected {self.peek()[1]!r} in the filter.")
        return node

    def or_expression(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise FilterError("The filter is nested too deeply.")
        node = self.and_expression(depth)
        while self.keyword() == "or":
            self.take()
            node = Logical("or", node, self.and_expression(depth))
        return node

    def and_expression(self, depth: int) -> Node:
        node = self.unary(depth)
        while self.keyword() == "and":
            self.take()
            node = Logical("and", node, self.unary(depth))
        return node

    def unary(self, depth: int) -> Node:
        token = self.peek()
        if token == ("punct", "("):
            self.take()
            node = self.or_expression(depth + 1)
            self.expect(")")
            return node
        if self.keyword() == "not":
            self.take()
            self.expect("(")
            node = self.or_expression(depth + 1)
            self.expect(")")
            return Not(node)
        return self.attribute_expression(depth)

    def attribute_expression(self, depth: int) -> Node:
        kind, word = self.take()
        if kind != "word":
            raise FilterError(f"Expected an attribute name in the filter, found {word!r}.")
        path = attribute_path(word, self.schema_prefix)
        if self.peek() == ("punct", "["):
            self.take()
            inner = self.or_expression(depth + 1)
            self.expect("]")
            return ValuePath(path, inner)
        kind, op = self.take()
        op = op.lower()
        if kind != "word" or (op not in COMPARE_OPS and op != "pr"):
            raise FilterError(f"Unknown filter operator {op!r} after {word!r}.")
        if op == "pr":
            return Compare(path, "pr")
        return Compare(path, op, self.literal())

    def literal(self) -> Any:
        kind, text = self.take()
        if kind == "string":
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                raise FilterError(f"The string {text} in the filter is not valid.") from None
        lowered = text.lower()
        if lowered in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[lowered]
        if _NUMBER.fullmatch(text):
            return json.loads(text)
        raise FilterError(f"{text!r} is not a value (a quoted string, true, false, null or a number).")


def attribute_path(word: str, schema_prefix: str) -> str:
    """An attribute path in lowercase, its schema URN removed when it is the
    resource's own schema."""
    lowered = word.lower()
    if lowered.startswith(schema_prefix):
        lowered = lowered[len(schema_prefix) :]
    if not re.fullmatch(r"(urn:[a-z0-9:._-]+:)?[a-z$][\w$-]*(\.[a-z$][\w$-]*)?", lowered):
        raise FilterError(f"{word!r} is not an attribute name.")
    return lowered


def filter_parse(text: str, *, schema: str) -> Node:
    if len(text) > MAX_FILTER_CHARS:
        raise FilterError(f"The filter is longer than {MAX_FILTER_CHARS} characters.")
    if not text.strip():
        raise FilterError("The filter is empty.")
    return _Parser(text, schema).parse()


# --- To a Django Q -----------------------------------------------------------------


@dataclass(frozen=True)
class Attribute:
    """How one filterable attribute maps to the database.

    kind "string": `db_field` is a lookup path (`case_exact` picks exact or
    case-insensitive lookups); "boolean": `db_field` holds a bool; "id": the
    value is a resource id (digits) that `lookup(int)` turns into a Q, and
    `present` is the Q of "has any"; "constant": every resource has `constant`."""

    kind: str
    db_field: str = ""
    case_exact: bool = False
    lookup: Callable[[int], Q] | None = None
    present: Q = field(default_factory=Q)
    constant: Any = None


def filter_q(node: Node, attributes: dict[str, Attribute], *, prefix: str = "") -> Q:
    if isinstance(node, Logical):
        left, right = filter_q(node.left, attributes, prefix=prefix), filter_q(node.right, attributes, prefix=prefix)
        return (left & right) if node.op == "and" else (left | right)
    if isinstance(node, Not):
        return ~filter_q(node.inner, attributes, prefix=prefix)
    if isinstance(node, ValuePath):
        return filter_q(node.inner, attributes, prefix=f"{prefix}{node.path}.")
    path = prefix + node.path
    attribute = attributes.get(path)
    if attribute is None and "." not in node.path and f"{path}.value" in attributes:
        attribute = attributes[f"{path}.value"]  # "emails eq ..." means the value
    if attribute is None:
        raise FilterError(f"Filtering on {path!r} is not supported.")
    return _compare_q(attribute, node, path)


_STRING_LOOKUPS = {"eq": "exact", "co": "contains", "sw": "startswith", "ew": "endswith"}
_ORDER_LOOKUPS = {"gt": "gt", "ge": "gte", "lt": "lt", "le": "lte"}


def _compare_q(attribute: Attribute, node: Compare, path: str) -> Q:
    op, value = node.op, node.value
    if op == "eq" and value is None:  # "attr eq null": attr has no value
        return ~_compare_q(attribute, Compare(node.path, "pr"), path)
    if attribute.kind == "constant":
        return Q() if _python_compare(attribute.constant, op, value, path) else NOTHING
    if attribute.kind == "boolean":
        if op == "pr":
            return Q()
        if op not in ("eq", "ne") or not isinstance(value, bool):
            raise FilterError(f"{path!r} is true or false: compare it with eq or ne and true or false.")
        q = Q(**{attribute.db_field: value})
        return q if op == "eq" else ~q
    if attribute.kind == "id":
        if op == "pr":
            return attribute.present
        if op not in ("eq", "ne") or not isinstance(value, str):
            raise FilterError(f"{path!r} is an id: compare it with eq or ne and a quoted id.")
        pk = resource_pk(value)
        q = attribute.lookup(pk) if pk is not None else NOTHING
        return q if op == "eq" else ~q
    # Strings. "pr": a non-empty value (NULL, from a missing row, is not > "").
    if op == "pr":
        return Q(**{f"{attribute.db_field}__gt": ""})
    if not isinstance(value, str):
        raise FilterError(f"{path!r} is a string: compare it with a quoted value.")
    if op in _ORDER_LOOKUPS:
        return Q(**{f"{attribute.db_field}__{_ORDER_LOOKUPS[op]}": value})
    lookup = _STRING_LOOKUPS["eq" if op == "ne" else op]
    if not attribute.case_exact:
        lookup = "i" + lookup
    q = Q(**{f"{attribute.db_field}__{lookup}": value})
    return ~q if op == "ne" else q


def _python_compare(actual: Any, op: str, expected: Any, path: str) -> bool:
    if op == "pr":
        return actual not in (None, "", [])
    if isinstance(actual, bool) or isinstance(expected, bool):
        if op not in ("eq", "ne"):
            raise FilterError(f"{path!r} is true or false: compare it with eq or ne.")
        return (actual == expected) == (op == "eq")
    if not isinstance(expected, str) or not isinstance(actual, str):
        return op == "ne"
    a, e = actual.lower(), expected.lower()
    return {
        "eq": a == e,
        "ne": a != e,
        "co": e in a,
        "sw": a.startswith(e),
        "ew": a.endswith(e),
        "gt": a > e,
        "ge": a >= e,
        "lt": a < e,
        "le": a <= e,
    }[op]


def filter_matches(node: Node, item: dict[str, Any]) -> bool:
    """Whether one value of a multi-valued attribute ({"value": "42",
    "type": "work"}, keys lowercase) matches a value-path filter."""
    if isinstance(node, Logical):
        if node.op == "and":
            return filter_matches(node.left, item) and filter_matches(node.right, item)
        return filter_matches(node.left, item) or filter_matches(node.right, item)
    if isinstance(node, Not):
        return not filter_matches(node.inner, item)
    if isinstance(node, ValuePath):
        raise FilterError("A value path cannot be nested in another.")
    if node.op == "eq" and node.value is None:
        return item.get(node.path) in (None, "")
    return _python_compare(item.get(node.path), node.op, node.value, node.path)
