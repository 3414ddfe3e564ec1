"""Accessibility: axe-core finds no serious or critical violation on any (page, role) pair."""

import pytest
from django.urls import reverse

from core import permissions as perm
from tests.checks.a11y import a11y_check_pages
from tests.checks.conftest import report
from tests.checks.crawler import REDIRECT_STATUSES

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(900)]


def error_pages() -> list[tuple[str, str]]:
    """The 403, 404 and 500 pages, each as someone who meets it."""
    forbidden = next(
        reverse(name)
        for name, access in sorted(perm.PERMISSIONS.items())
        if "GET" in access.methods
        and perm.MEMBER not in access.roles
        and perm.ANONYMOUS not in access.roles
        and access.sample is perm.no_args
    )
    return [
        ("employee", forbidden),
        ("anonymous", "/no-such-page-anywhere/"),
        ("employee", "/no-such-page-anywhere/"),
        ("anonymous", "/__checks__/500/"),
    ]


def test_no_serious_violation_on_any_page(crawl, checks_server):
    statuses = {(p.persona, p.url): p.status for c in crawl.values() for p in c.pages}
    pairs = sorted((persona, url) for (persona, url), page in _html_pages(crawl).items())
    pairs += error_pages()
    results, seconds = a11y_check_pages(checks_server, pairs)
    problems = [v for r in results for v in r.violations]
    assert [r.status for r in results[-len(error_pages()) :]] == [403, 404, 404, 500]
    moved = [
        f"{r.persona} {r.path}: {statuses[(r.persona, r.path)]} in the crawl, {r.status} in the browser"
        for r in results
        if (r.persona, r.path) in statuses and r.status != statuses[(r.persona, r.path)]
    ]
    report(
        f"Accessibility: {len(pairs)} (page, role) pairs checked with axe-core in {seconds:.1f} s"
        + (
            "\nstatus differs in the browser (data made by a sample is not in the clone):\n" + "\n".join(moved)
            if moved
            else ""
        )
    )
    assert problems == [], f"{len(problems)} serious or critical accessibility violations:\n" + "\n".join(problems)


def _html_pages(crawl):
    return {
        (p.persona, p.url): p
        for c in crawl.values()
        for p in c.pages
        if p.is_html and p.status not in REDIRECT_STATUSES
    }
