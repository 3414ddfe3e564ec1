"""Every message the feeds code shows or stores for members is translatable.

Two kinds of proof:

- Source checks (AST) over the modules that produce those messages: every
  sentence in them is the literal argument of a translation call; translation
  calls get plain literals with named ``%(placeholders)s``; and what is
  translated at import time is lazy, so it follows the language active when
  the message is used.
- A real catalog: a ``.mo`` file compiled here for a test language, found by
  Django through ``LOCALE_PATHS``; with that language active, refusals,
  platform, discovery and parse errors, and the error stored by a fetch come
  out translated.
"""

from __future__ import annotations

import ast
import importlib
import re
import struct
from pathlib import Path

import pytest
from django.utils import translation

from feeds.discovery import NoFeedFound
from feeds.fetch import ForbiddenAddress, fetch
from feeds.parse import ParseError, parse_feed
from feeds.platforms import PlatformInputError, get_platform

MODULES = ["feeds.fetch", "feeds.platforms", "feeds.discovery", "feeds.parse", "feeds.ingest", "feeds.websub.services"]

TRANSLATION_CALLS = {
    "_",
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "npgettext_lazy",
}
# Raised for programmers (bad arguments or settings), never shown to members.
DEVELOPER_EXCEPTIONS = {"ValueError", "TypeError", "KeyError", "RuntimeError"}
# Functions the check skips (none left: the feed-problem email is translated too).
NOT_CHECKED_YET: set[tuple[str, str]] = set()
_WORDS = re.compile(r"[A-Za-z]{2,} +[A-Za-z]")
_SENTENCE_START = re.compile(r"^[A-Z][a-z']* +[a-z]")
_NAMED_PLACEHOLDER = re.compile(r"%\([a-z_]+\)[-#0 +]*\d*(?:\.\d+)?[sdif]|%%")


def _tree(module: str) -> ast.Module:
    return ast.parse(Path(importlib.import_module(module).__file__).read_text())


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _ancestors(node: ast.AST, parents: dict) -> list[ast.AST]:
    found = []
    while node in parents:
        node = parents[node]
        found.append(node)
    return found


def _call_name(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name):
            return node.func.id
        if isinstance(node.func, ast.Attribute):
            return node.func.attr
    return ""


def _docstrings(tree: ast.AST) -> set[ast.AST]:
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {
        node.body[0].value
        for node in ast.walk(tree)
        if isinstance(node, kinds)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }


def _text(node: ast.AST) -> str | None:
    """The text of a string literal or f-string ({} for the values), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)
    return None


def _reads_as_prose(text: str) -> bool:
    """A sentence or the start of one: words, and a full stop or a capitalised start."""
    stripped = text.strip()
    return bool(_WORDS.search(stripped)) and (stripped.endswith((".", "!", "?")) or bool(_SENTENCE_START.match(text)))


def _is_exempt(node: ast.AST, parents: dict, module: str) -> bool:
    for ancestor in _ancestors(node, parents):
        name = _call_name(ancestor)
        if name in DEVELOPER_EXCEPTIONS:
            return True
        if isinstance(ancestor, ast.Call) and isinstance(ancestor.func, ast.Attribute):
            if isinstance(ancestor.func.value, ast.Name) and ancestor.func.value.id in {"log", "logger", "logging"}:
                return True  # log lines are for operators
        if isinstance(ancestor, ast.FunctionDef) and (module, ancestor.name) in NOT_CHECKED_YET:
            return True
    return False


def _untranslated_sentences(module: str) -> list[str]:
    tree = _tree(module)
    parents, docstrings = _parents(tree), _docstrings(tree)
    problems = []
    for node in ast.walk(tree):
        text = _text(node)
        if text is None or node in docstrings or not _reads_as_prose(text):
            continue
        if isinstance(parents.get(node), ast.JoinedStr):
            continue  # a piece of an f-string: the f-string as a whole is checked
        if _call_name(parents.get(node)) in TRANSLATION_CALLS and isinstance(node, ast.Constant):
            continue
        if _is_exempt(node, parents, module):
            continue
        problems.append((node.lineno, f"{module}:{node.lineno}: {text!r}"))
    return [problem for _, problem in sorted(problems)]


def _message_args(call: ast.Call) -> list[ast.AST]:
    name = _call_name(call)
    count = {"ngettext": 2, "ngettext_lazy": 2, "npgettext": 3, "npgettext_lazy": 3}.get(name)
    if count is None:
        count = 2 if name.startswith("pgettext") else 1
    return call.args[:count]


def _badly_formed_translations(module: str) -> list[str]:
    tree = _tree(module)
    parents = _parents(tree)
    problems = []
    for call in ast.walk(tree):
        name = _call_name(call)
        if name not in TRANSLATION_CALLS or not isinstance(call.func, ast.Name):
            continue
        where, line = f"{module}:{call.lineno}", call.lineno
        in_function = any(
            isinstance(a, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) for a in _ancestors(call, parents)
        )
        if not in_function and not name.endswith(("_lazy", "_noop")):
            problems.append((line, f"{where}: {name}() runs at import time; use the lazy form"))
        args = _message_args(call)
        if not args:
            problems.append((line, f"{where}: {name}() without a message"))
        for arg in args:
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                problems.append((line, f"{where}: {name}() takes a plain string literal, not {type(arg).__name__}"))
            elif "%" in _NAMED_PLACEHOLDER.sub("", arg.value):
                problems.append((line, f"{where}: {arg.value!r} needs named placeholders such as %(name)s"))
    return [problem for _, problem in sorted(problems)]


@pytest.mark.parametrize("module", MODULES)
def test_every_sentence_for_members_goes_through_gettext(module):
    assert _untranslated_sentences(module) == []


@pytest.mark.parametrize("module", MODULES)
def test_translation_calls_take_literals_with_named_placeholders_and_are_lazy_at_import(module):
    assert _badly_formed_translations(module) == []


def test_the_source_check_catches_what_it_is_meant_to_catch(tmp_path, monkeypatch):
    """The checks above would fail on the mistakes they are there for."""
    source = """
from django.utils.translation import gettext as _, gettext_lazy

DEFAULT = "That address is not valid."
LAZY_OK = gettext_lazy("Fine at import time.")
EAGER = _("Frozen in the language of the worker that imported it.")


def check(value, count):
    if not value:
        raise BadURL(f"Enter a {value} handle, for example @ana.")
    if count:
        raise ParseError(_(f"The feed has {count} errors."))
    if count > 1:
        raise ParseError(_("The feed has %s errors.") % count)
    log.warning("Could not queue a fetch of feed %s now.", value)
    raise ValueError("max_bytes must be positive.")
"""
    module = tmp_path / "translation_sample.py"
    module.write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))

    untranslated = _untranslated_sentences("translation_sample")
    badly_formed = _badly_formed_translations("translation_sample")

    assert [problem.split(": ", 1)[1] for problem in untranslated] == [
        "'That address is not valid.'",
        "'Enter a {} handle, for example @ana.'",
        "'The feed has {} errors.'",
    ]
    assert [problem.split(": ", 1)[1] for problem in badly_formed] == [
        "_() runs at import time; use the lazy form",
        "_() takes a plain string literal, not JoinedStr",
        "'The feed has %s errors.' needs named placeholders such as %(name)s",
    ]


# --------------------------------------------------------------------------
# A real catalog
# --------------------------------------------------------------------------

TEST_LANGUAGE = "eo"
CATALOG = {
    "That address is inside a private network, so plnorg will not fetch it.": (
        "[eo] That address is inside a private network, so plnorg will not fetch it."
    ),
    "Add the server: @%(user)s@server (for example @%(user)s@mastodon.social).": (
        "[eo] @%(user)s@mastodon.social: add the server to @%(user)s."
    ),
    "We couldn't find a feed on that page. If the site has an RSS or Atom link, paste it directly.": (
        "[eo] No feed on that page."
    ),
    "The feed address returned an empty page.": "[eo] The feed address returned an empty page.",
    "The server is temporarily unavailable (503).": "[eo] The server is temporarily unavailable (503).",
    # A plural message: msgid and msgid_plural, and one translation per form.
    "The feed lists %(total)s entry: plnorg kept the newest %(kept)s.\0"
    "The feed lists %(total)s entries: plnorg kept the newest %(kept)s.": (
        "[eo] %(total)s entry, the newest %(kept)s kept.\0[eo] %(total)s entries, the newest %(kept)s kept."
    ),
}


def _write_mo(path: Path, messages: dict[str, str]) -> None:
    """A GNU gettext .mo file: a header, then (length, offset) tables for the
    original and the translated strings, then the strings themselves."""
    entries = sorted({"": "Content-Type: text/plain; charset=UTF-8\n", **messages}.items())
    originals = [key.encode() for key, _ in entries]
    translations = [value.encode() for _, value in entries]
    count = len(entries)
    originals_table = 7 * 4
    translations_table = originals_table + 8 * count
    offset = translations_table + 8 * count
    tables, data = [], b""
    for strings in (originals, translations):
        table = b""
        for string in strings:
            table += struct.pack("<2I", len(string), offset + len(data))
            data += string + b"\0"
        tables.append(table)
    header = struct.pack("<7I", 0x950412DE, 0, count, originals_table, translations_table, 0, offset)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + tables[0] + tables[1] + data)


@pytest.fixture
def test_language(tmp_path, settings):
    """A catalog for TEST_LANGUAGE that Django finds through LOCALE_PATHS
    (changing the setting clears Django's translation caches)."""
    _write_mo(tmp_path / TEST_LANGUAGE / "LC_MESSAGES" / "django.mo", CATALOG)
    settings.LOCALE_PATHS = [str(tmp_path)]
    return TEST_LANGUAGE


def test_messages_made_at_import_time_follow_the_active_language(test_language):
    def refusal() -> str:
        with pytest.raises(ForbiddenAddress) as caught:
            fetch("http://10.0.0.5/feed.xml")
        return str(caught.value)

    with translation.override(test_language):
        translated = (refusal(), str(NoFeedFound()))
    english = (refusal(), str(NoFeedFound()))

    assert translated == (
        "[eo] That address is inside a private network, so plnorg will not fetch it.",
        "[eo] No feed on that page.",
    )
    assert english == (
        "That address is inside a private network, so plnorg will not fetch it.",
        "We couldn't find a feed on that page. If the site has an RSS or Atom link, paste it directly.",
    )


def test_messages_made_at_call_time_are_translated_with_their_values(test_language):
    with translation.override(test_language):
        with pytest.raises(PlatformInputError) as platform_error:
            get_platform("mastodon").feed_url("@ana")
        with pytest.raises(ParseError) as parse_error:
            parse_feed(b"  ", url="https://example.org/feed")

    assert platform_error.value.message == "[eo] @ana@mastodon.social: add the server to @ana."
    assert str(parse_error.value) == "[eo] The feed address returned an empty page."


def test_the_notice_of_a_long_feed_is_translated_with_its_numbers(test_language):
    items = "".join(f"<item><guid>urn:{n}</guid><title>Post {n}</title></item>" for n in range(501))
    document = f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'

    with translation.override(test_language):
        parsed = parse_feed(document.encode(), url="https://example.org/feed")

    assert parsed.notice == "[eo] 501 entries, the newest 500 kept."


@pytest.mark.django_db
def test_a_fetch_stores_its_error_in_the_active_language(test_language, settings):
    from feeds.ingest import feed_fetch
    from feeds.models import Feed, FetchLog
    from tests.factories import FeedFactory
    from tests.feeds.servers import FeedServer

    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.0/8"]
    server = FeedServer("127.0.0.1")
    try:
        feed = FeedFactory(url=server.set("/busy.xml", b"busy", status=503, content_type="text/plain"))
        with translation.override(test_language):
            outcome = feed_fetch(feed_id=feed.pk)
    finally:
        server.stop()

    expected = "[eo] The server is temporarily unavailable (503)."
    assert outcome.error == expected
    assert Feed.objects.get(pk=feed.pk).last_error == expected
    assert FetchLog.objects.get(feed=feed).error == expected
