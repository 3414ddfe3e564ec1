"""The reader in the embedded mode (SQLite): `python -m tests.reader.embedded_reader`.

Run by tests/reader/test_embedded.py in a subprocess without DATABASE_URL,
REDIS_URL or CACHE_URL, after migrate and seed_demo. As the demo employee,
through the test client: the web stream's "Unread only" and its "mark all as
read" for a filtered view (the INSERT … SELECT … ON CONFLICT path), then both
APIs with an app password (ClientLogin, lists, counts, contents, edit-tag,
mark-all-as-read of a label, Fever items, ids and marks). Prints one line per
check and exits 1 if any failed.
"""

import hashlib
import os
import re
import sys
from urllib.parse import urlencode

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plnorg.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

PROBLEMS: list[str] = []


def check(name: str, ok: bool, detail: str = "") -> None:
    print(("ok      " if ok else "PROBLEM ") + name + (f": {detail}" if detail and not ok else ""))
    if not ok:
        PROBLEMS.append(name)


def unread_on_the_web(web: Client, **params) -> list[str]:
    body = web.get("/stream/", {"unread": "1", **params}).content.decode()
    return re.findall(r'id="entry-(\d+)" data-entry="\d+" data-unread="1"', body)


def main() -> int:
    setup_test_environment()
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine != "django.db.backends.sqlite3":
        print(f"not the embedded mode: the database engine is {engine}")
        return 2
    from feeds.reader.services.app_passwords import app_password_create
    from members.demo import demo_email
    from members.models import Member

    member = Member.objects.select_related("user").get(user__email=demo_email("employee"))
    web = Client()
    web.force_login(member.user)

    before = unread_on_the_web(web)
    check("the demo employee has unread entries", len(before) > 0)
    stream = web.get("/stream/", {"kind": "account"}).content.decode()
    newest = re.search(r'name="newest" value="(\d+)"', stream).group(1)
    web.post("/stream/mark-all-read/", {"kind": "account", "newest": newest})
    check(
        "a filtered mark-all-as-read leaves nothing unread in that view", unread_on_the_web(web, kind="account") == []
    )
    left = unread_on_the_web(web, kind="source")
    check("...and the rest of the stream unread", len(left) > 0)

    made = app_password_create(member=member, name="Embedded check")
    api = Client()
    login = api.post("/api/greader/accounts/ClientLogin", {"Email": member.user.email, "Passwd": made.password})
    check("ClientLogin", login.status_code == 200, login.content.decode())
    auth = {"Authorization": "GoogleLogin auth=" + login.content.decode().split("Auth=")[1].strip()}

    def greader(path: str, params: dict | None = None):
        return api.get(f"/api/greader/reader/api/0/{path}" + ("?" + urlencode(params) if params else ""), headers=auth)

    subscriptions = greader("subscription/list", {"output": "json"}).json()["subscriptions"]
    check("subscription/list", len(subscriptions) > 0)
    labels = [t["id"] for t in greader("tag/list", {"output": "json"}).json()["tags"] if "/label/" in t["id"]]
    check("tag/list has labels", len(labels) > 0)
    count = greader("unread-count", {"output": "json"}).json()
    total = next(r["count"] for r in count["unreadcounts"] if r["id"].endswith("reading-list"))
    ids = greader(
        "stream/items/ids",
        {"s": "user/-/state/com.google/reading-list", "xt": "user/-/state/com.google/read", "n": 10000},
    )
    check("unread-count equals the unread listing", total == len(ids.json()["itemRefs"]) >= len(left) > 0)
    contents = greader("stream/contents/user/-/state/com.google/reading-list", {"n": 5}).json()
    check("stream/contents", len(contents["items"]) == 5 and "continuation" in contents)
    token = greader("token").content.decode().strip()
    first = contents["items"][0]["id"]
    edited = api.post(
        "/api/greader/reader/api/0/edit-tag",
        urlencode({"i": first, "a": "user/-/state/com.google/read", "T": token}),
        content_type="application/x-www-form-urlencoded",
        headers=auth,
    )
    check("edit-tag", edited.content == b"OK")
    topic = next(label for label in labels if "Team: " not in label and "My PLN" not in label)
    marked = api.post(
        "/api/greader/reader/api/0/mark-all-as-read",
        urlencode({"s": topic, "T": token}),
        content_type="application/x-www-form-urlencoded",
        headers=auth,
    )
    still = greader("stream/items/ids", {"s": topic, "xt": "user/-/state/com.google/read"}).json()["itemRefs"]
    check("mark-all-as-read of a label", marked.content == b"OK" and still == [])

    key = hashlib.md5(f"{member.user.email}:{made.password}".encode()).hexdigest()

    def fever(query: str, **values):
        body = urlencode({"api_key": key, **values})
        return api.post(f"/api/fever/?api&{query}", body, content_type="application/x-www-form-urlencoded").json()

    items = fever("items")
    check("fever items", items["auth"] == 1 and len(items["items"]) > 0)
    groups = fever("groups")
    check("fever groups", len(groups["groups"]) > 0 and len(groups["feeds_groups"]) > 0)
    everything = fever("unread_item_ids", mark="group", **{"as": "read"}, id="0")
    check("fever: group 0 marks everything read", everything["unread_item_ids"] == "")
    check("...and the web stream agrees", unread_on_the_web(web) == [])
    return 1 if PROBLEMS else 0


if __name__ == "__main__":
    sys.exit(main())
