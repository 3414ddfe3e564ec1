"""Workshop descriptions: Markdown rendered, then sanitized like any third-party HTML."""

from __future__ import annotations

import markdown as markdown_lib

from feeds.sanitize import sanitize_html


def markdown_html(text: str) -> str:
    """Safe HTML for a facilitator's Markdown. Raw HTML in the text is escaped
    by the sanitizer's allowlist (scripts, forms, frames and styles go)."""
    if not text:
        return ""
    rendered = markdown_lib.markdown(text, extensions=["sane_lists"], output_format="html")
    return sanitize_html(rendered)
