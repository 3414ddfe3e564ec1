"""The server behind the accessibility check: `python -m tests.checks.live_server`.

Started once per test run by tests/checks/a11y.py with DATABASE_URL pointing
at a clone of the seeded test database. It serves the site plus the pages of
tests/checks/broken_urls.py (the 500 page and the deliberately inaccessible
one), signs every persona in once (a session in the clone, the same as
`Client.force_login`), prints one JSON line
``{"port": ..., "cookie": "sessionid", "sessions": {persona: key}}``
and serves until terminated.
"""

import json
import logging
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plnorg.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import clear_url_caches  # noqa: E402

from core import permissions as perm  # noqa: E402


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass


def main() -> None:
    settings.ROOT_URLCONF = "tests.checks.broken_urls"
    clear_url_caches()
    from tests.checks.broken_urls import BROKEN_PAGES
    from tests.checks.crawler import persona_users

    perm.register(BROKEN_PAGES)
    logging.getLogger("django.request").setLevel(logging.ERROR)
    sessions = {}
    for persona, user in persona_users().items():
        if user is not None:
            client = Client()
            client.force_login(user)
            sessions[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
    httpd = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler)
    httpd.set_app(get_wsgi_application())
    print(json.dumps({"port": httpd.server_port, "cookie": settings.SESSION_COOKIE_NAME, "sessions": sessions}))
    sys.stdout.flush()
    httpd.serve_forever()


if __name__ == "__main__":
    main()
