"""`manage.py add_feed`: one line per input, non-zero exit if any was refused."""

import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from feeds.models import Subscription
from tests.factories import FeedFactory, MemberFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str | None]:
    out = StringIO()
    try:
        call_command("add_feed", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), str(exc)
    return out.getvalue(), None


def test_add_feed_prints_added_and_already_there_and_exits_zero():
    member = MemberFactory(user__email="ana@example.org")
    feed = FeedFactory(url="https://example.com/feed.xml")
    SubscriptionFactory(member=member, feed=feed)

    out, error = run(
        "@ana@mastodon.example", "https://example.com/feed.xml", "--member", "ANA@example.org", "--kind", "account"
    )

    assert out.splitlines() == [
        "added: @ana@mastodon.example -> https://mastodon.example/@ana.rss",
        "already there: https://example.com/feed.xml -> https://example.com/feed.xml",
    ]
    assert error is None
    sub = Subscription.objects.get(member=member, feed__url="https://mastodon.example/@ana.rss")
    assert (sub.kind, sub.is_shared) == ("account", True)


def test_add_feed_with_platform_reads_handles_and_reports_refusals_with_exit_status():
    member = MemberFactory(user__email="ben@example.org")

    out, error = run("octocat", "not a user!", "--member", "ben@example.org", "--platform", "github")

    assert out.splitlines() == [
        "added: octocat -> https://github.com/octocat.atom",
        "refused: not a user!: A GitHub user name has only letters, digits and single dashes, "
        "like octocat (at most 39 characters).",
    ]
    assert error == "1 of 2 refused."
    assert list(Subscription.objects.filter(member=member).values_list("feed__url", "kind")) == [
        ("https://github.com/octocat.atom", "source")
    ]


def test_add_feed_refuses_private_addresses():
    MemberFactory(user__email="cy@example.org")

    out, error = run("http://192.168.1.10/feed", "--member", "cy@example.org")

    assert out.splitlines() == [
        "refused: http://192.168.1.10/feed: That address is inside a private network, so plnorg will not fetch it."
    ]
    assert error == "1 of 1 refused."


def test_add_feed_unknown_member_is_an_error():
    out, error = run("octocat", "--member", "nobody@example.org")

    assert out == ""
    assert error == "No member with the email address nobody@example.org."


def test_add_feed_exit_status_from_the_command_line(capsys):
    from django.core.management import ManagementUtility

    MemberFactory(user__email="dee@example.org")

    with pytest.raises(SystemExit) as exit_status:
        ManagementUtility(["manage.py", "add_feed", "ftp://example.com/x", "--member", "dee@example.org"]).execute()

    captured = capsys.readouterr()
    assert exit_status.value.code == 1
    assert captured.out == (
        "refused: ftp://example.com/x: plnorg only fetches addresses that start with http:// or https://.\n"
    )
    assert captured.err == "CommandError: 1 of 1 refused.\n"


@pytest.mark.timeout(60)
def test_add_feed_for_a_site_with_slow_feeds_stops_at_the_budget(slow_site):
    MemberFactory(user__email="eve@example.org")
    started = time.monotonic()

    out, error = run(slow_site.url, "--member", "eve@example.org")

    assert time.monotonic() - started < slow_site.budget_seconds + 2.0
    assert out.splitlines() == [f"refused: {slow_site.url}: {slow_site.message}"]
    assert error == "1 of 1 refused."
    assert Subscription.objects.filter(feed__url__startswith=slow_site.server.url).count() == 0
