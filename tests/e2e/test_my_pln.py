"""Browser journey: a new member adds a Mastodon handle and a blog URL from
onboarding, chooses sharing for each, and sees both on My PLN.

The Mastodon server is a name that cannot be reached: registering a handle
must not fetch anything. The blog is served by a local HTTP server; only its
discovery fetches."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from feeds.models import Subscription
from tests.e2e.conftest import screenshot, signed_in_page
from tests.factories import MemberFactory

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120), pytest.mark.django_db(transaction=True)]

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Nia's field notes</title>
<link>http://127.0.0.1/</link><description>Notes</description>
<item><title>First</title><guid>1</guid></item></channel></rss>"""


class _Blog(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        port = self.server.server_address[1]
        if self.path == "/":
            body = (
                f'<!DOCTYPE html><html><head><title>Nia</title><link rel="alternate" '
                f'type="application/rss+xml" href="http://127.0.0.1:{port}/feed.xml"></head><body>Hi</body></html>'
            ).encode()
            kind = "text/html; charset=utf-8"
        elif self.path == "/feed.xml":
            body, kind = RSS, "application/rss+xml"
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def blog():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Blog)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_new_member_adds_a_handle_and_a_blog_from_onboarding(browser, live_server, blog, settings):
    settings.FETCH_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.0/8"]
    member = MemberFactory(display_name="Nia New")
    page = signed_in_page(browser, live_server, member.user)
    try:
        page.goto("/me/start/")
        assert page.get_by_role("heading", level=1).inner_text() == "Start your PLN"
        page.get_by_label("Platform").select_option("mastodon")
        page.get_by_label("Handle or web address").fill("@nia@social.invalid")
        page.get_by_label("Account (what I publish)").check()
        page.get_by_label("Yes, share with colleagues").check()
        screenshot(page, "my-pln-1-onboarding")
        with page.expect_navigation():
            page.get_by_role("button", name="Add to my PLN").click()
        assert page.url.endswith("/me/pln/")
        assert "Added social.invalid. Colleagues can see it." in page.locator(".messages").inner_text()

        page.goto("/me/start/")
        page.get_by_label("Handle or web address").fill(blog)
        page.get_by_label("Source (what I learn from)").check()
        page.get_by_label("No, keep it private").check()
        with page.expect_navigation():
            page.get_by_role("button", name="Add to my PLN").click()
        assert "Added Nia's field notes. Only you can see it." in page.locator(".messages").inner_text()
        screenshot(page, "my-pln-2-both")

        accounts = page.get_by_role("region", name="Accounts").inner_text()
        sources = page.get_by_role("region", name="Sources").inner_text()
        assert "social.invalid" in accounts and "shared with colleagues" in accounts
        assert "Nia's field notes" in sources and "private" in sources
        assert page.console_errors == []
    finally:
        page.context.close()

    subs = sorted(Subscription.objects.filter(member=member).values_list("feed__url", "kind", "is_shared"))
    assert subs == [
        (f"{blog}feed.xml", "source", False),
        ("https://social.invalid/@nia.rss", "account", True),
    ]
