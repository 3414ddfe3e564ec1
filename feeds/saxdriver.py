"""The SAX driver feedparser reads XML feeds with: Python's own expat reader,
with character data buffered.

Stock expat hands a text node to the SAX handler in pieces, one at every
entity or character reference, and an RSS item's HTML is escaped text
(``&lt;p&gt;Budgets &lt;b&gt;help&lt;/b&gt;``), so a 20-entry feed with a few
KB of HTML each costs feedparser about 3,000 ``characters()`` calls, each
going through its dictionary-backed element stack: a third of its parsing
time. With expat's ``buffer_text`` it gets one call per text node. SAX
allows either (a handler must accept text in any number of pieces) and
feedparser joins the pieces anyway, so what it returns is the same; a test
parses the fixture feeds both ways and compares.

``install()`` (``FeedsConfig.ready``) puts this driver first in feedparser's
``PREFERRED_XML_PARSERS``, the list feedparser offers for choosing its SAX
driver; everything else about the parser (namespaces on, external entities
off) is feedparser's and expat's as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from xml.sax.expatreader import ExpatParser

import feedparser.api

NAME = __name__
TEXT_BUFFER_BYTES = 64 * 1024  # expat flushes buffered text at this size (its default: 8 KB)


class BufferedExpatParser(ExpatParser):
    """ExpatParser whose expat parser buffers character data."""

    def reset(self) -> None:
        super().reset()
        self._parser.buffer_text = True
        self._parser.buffer_size = TEXT_BUFFER_BYTES


def create_parser(*args, **kwargs) -> BufferedExpatParser:
    """The SAX driver entry point (``xml.sax.make_parser`` calls it)."""
    return BufferedExpatParser(*args, **kwargs)


def install() -> None:
    """Make feedparser use this driver (idempotent)."""
    parsers = feedparser.api.PREFERRED_XML_PARSERS
    if NAME not in parsers:
        parsers.insert(0, NAME)


@contextmanager
def uninstalled() -> Iterator[None]:
    """feedparser as it comes, with Python's own SAX driver, inside the block
    (the ingest benchmark's ceiling; the tests that compare both drivers)."""
    parsers = feedparser.api.PREFERRED_XML_PARSERS
    kept = list(parsers)
    parsers[:] = [name for name in kept if name != NAME]
    try:
        yield
    finally:
        parsers[:] = kept
