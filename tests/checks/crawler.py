"""The page checks' crawler: every page of the permission map, as every role.

For each persona the crawler opens every permission-map entry the persona may
open (the entry's `sample(user)` builds the URL from the demo data), then
every same-site link inside a <nav> on those pages, and every same-site
redirect target. Each response is checked on the spot (`page_problems`):

- the status is what the map declares for this role (5xx and unexpected 4xx
  fail, with the exception when there is one);
- the declared text is there (case-insensitive, visible text for HTML);
- no "TODO", "lorem", "placeholder", "FIXME" or "xxx" in the visible text;
- every `data-list` that is empty shows a visible empty state;
- the consent canary (a private title of one member) appears nowhere but on
  its owner's pages, in any format (HTML, Atom, iCalendar, CSV, JSON).

The responses are kept (`Page`) so the CSRF, header and accessibility checks
reuse them instead of crawling again. Everything here is plain functions on
the Django test client, importable without pytest (the embedded-mode check
runs it in a subprocess against SQLite) and callable on a single URL (the
tests of the checks themselves do that on deliberately broken pages).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import NoReverseMatch, Resolver404, URLPattern, URLResolver, get_resolver, resolve, reverse

from core import permissions as perm
from core.permissions import user_roles
from feeds.demo import CANARY_OWNER, CONSENT_CANARY
from tests.conftest import PERSONAS
from tests.pages import text_of

# Words that betray an unfinished page (visible text only, not attributes).
FORBIDDEN_WORDS = re.compile(r"\bTODO\b|\bFIXME\b|\bxxx+\b|\blorem\b|placeholder", re.I)
HOST = "testserver"
# Safety valves: pagination or filters in a <nav> must not make a crawl endless.
MAX_URLS_PER_VIEW = 5
MAX_PAGES_PER_PERSONA = 600
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
VOID_TAGS = frozenset("area base br col embed hr img input link meta param source track wbr".split())
# Closing tags HTML lets authors leave out: a new <li> closes the open <li>.
IMPLIED_END = {"li": {"li"}, "option": {"option"}, "tr": {"tr", "td", "th"}, "td": {"td", "th"}, "th": {"td", "th"}}
INVISIBLE_TAGS = frozenset({"script", "style", "template", "noscript"})


# --- A small DOM, enough for lists, navs and forms --------------------------------


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)
    parent: Element | None = None

    @property
    def elements(self) -> list[Element]:
        return [c for c in self.children if isinstance(c, Element)]

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def iter(self):
        yield self
        for child in self.elements:
            yield from child.iter()

    def visible_text(self) -> str:
        if self.tag in INVISIBLE_TAGS or "hidden" in self.attrs or self.attrs.get("aria-hidden") == "true":
            return ""
        parts = [c if isinstance(c, str) else c.visible_text() for c in self.children]
        return " ".join(" ".join(parts).split())


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        implied = IMPLIED_END.get(tag)
        if implied and self.stack[-1].tag in implied:
            self.stack.pop()
        element = Element(tag, {k: (v or "") for k, v in attrs}, parent=self.stack[-1])
        self.stack[-1].children.append(element)
        if tag not in VOID_TAGS:
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        element = Element(tag, {k: (v or "") for k, v in attrs}, parent=self.stack[-1])
        self.stack[-1].children.append(element)

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse_html(html: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


@dataclass(frozen=True)
class Form:
    page_url: str
    action: str  # absolute path (with query) the form posts to
    method: str
    fields: tuple[tuple[str, str], ...]


def nav_links(root: Element) -> list[str]:
    return [
        a.attrs["href"]
        for nav in root.iter()
        if nav.tag == "nav"
        for a in nav.iter()
        if a.tag == "a" and a.attrs.get("href")
    ]


def forms_of(root: Element, page_url: str) -> list[Form]:
    found = []
    for form in root.iter():
        if form.tag != "form":
            continue
        fields = []
        for el in form.iter():
            name = el.attrs.get("name")
            if not name or el.tag not in ("input", "select", "textarea"):
                continue
            if (
                el.tag == "input"
                and el.attrs.get("type", "text") in ("checkbox", "radio")
                and "checked" not in el.attrs
            ):
                continue
            if el.tag == "textarea":
                value = "".join(c for c in el.children if isinstance(c, str))
            elif el.tag == "select":
                options = [o for o in el.iter() if o.tag == "option"]
                chosen = next((o for o in options if "selected" in o.attrs), options[0] if options else None)
                value = "" if chosen is None else chosen.attrs.get("value", chosen.visible_text())
            else:
                value = el.attrs.get("value", "")
            fields.append((name, value))
        action = urljoin(page_url, form.attrs.get("action") or page_url)
        found.append(Form(page_url, action, (form.attrs.get("method") or "get").lower(), tuple(fields)))
    return found


def empty_list_problems(root: Element) -> list[str]:
    """A `data-list` with no items must show a visible empty-state message.

    Items are the list's child elements (a table's rows) other than the
    empty-state element (class "empty-state" or a `data-empty-state`
    attribute). The message is that element, inside the list or right after it.
    """
    problems = []
    for el in root.iter():
        if "data-list" not in el.attrs:
            continue
        candidates = (
            [r for r in el.iter() if r.tag == "tr" and r.parent and r.parent.tag != "thead"]
            if el.tag == "table"
            else el.elements
        )
        items = [c for c in candidates if not _is_empty_state(c)]
        if items:
            continue
        shown = [c for c in candidates if _is_empty_state(c)]
        following = _next_element(el)
        if following is not None and _is_empty_state(following):
            shown.append(following)
        message = " ".join(s.visible_text() for s in shown).strip()
        label = el.attrs.get("data-empty-state") or el.attrs.get("id") or el.attrs.get("class") or el.tag
        if not el.attrs.get("data-empty-state"):
            problems.append(f"empty list <{el.tag} data-list> ({label!r}) has no data-empty-state message")
        elif not message:
            problems.append(f"empty list {label!r} shows no visible empty state")
    return problems


def _is_empty_state(el: Element) -> bool:
    return "empty-state" in el.classes or "data-empty-state" in el.attrs and "data-list" not in el.attrs


def _next_element(el: Element) -> Element | None:
    if el.parent is None:
        return None
    siblings = el.parent.children
    for child in siblings[siblings.index(el) + 1 :]:
        if isinstance(child, Element):
            return child
        if child.strip():
            return None
    return None


# --- Checking one response ------------------------------------------------------


@dataclass
class Page:
    """One response the crawler checked."""

    persona: str
    url: str
    view_name: str | None
    status: int
    content_type: str
    headers: dict[str, str]
    content: bytes
    via: str  # "map", "nav" or "redirect"
    problems: list[str] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def is_html(self) -> bool:
        return self.content_type.startswith("text/html")


def resolve_name(url: str) -> str | None:
    try:
        return resolve(urlsplit(url).path).view_name
    except Resolver404:
        return None


def roles_of(user) -> set[str]:
    return user_roles(user) if user is not None else {perm.ANONYMOUS}


def expected_statuses(access: perm.Access, roles: set[str]) -> frozenset[int]:
    ok = frozenset({access.status}) | access.also_ok
    if access.redirects & roles:
        ok |= REDIRECT_STATUSES | {200}
    return ok


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def check_url(
    client: Client, url: str, *, persona: str, user=None, via: str = "map", owner: str = CANARY_OWNER
) -> Page:
    """GET one URL as one persona and check the response; return the Page.

    `user` is the signed-in user (None: anonymous); `owner` is the persona
    allowed to see the consent canary (the crawl of the canary's owner).
    """
    roles = roles_of(user)
    name = resolve_name(url)
    started = time.perf_counter()
    response = client.get(url)
    seconds = time.perf_counter() - started
    content = body_of(response)
    page = Page(
        persona=persona,
        url=url,
        view_name=name,
        status=response.status_code,
        content_type=response.get("Content-Type", ""),
        headers={k.lower(): v for k, v in response.headers.items()},
        content=content,
        via=via,
        seconds=seconds,
    )
    where = f"{persona} {url}"
    access = perm.access_for(name) if name else None
    if name is None:
        page.problems.append(f"{where}: no such page ({response.status_code}), linked from the site")
    elif access is None:
        page.problems.append(f"{where}: {name} has no permission-map entry (answered {response.status_code})")
    elif not access.allows(roles):
        page.problems.append(
            f"{where}: linked for {persona}, but the permission map does not allow {persona} on {name}"
        )
    elif response.status_code not in expected_statuses(access, roles):
        problem = f"{where}: expected {access.status}, got {response.status_code}"
        if response.status_code in REDIRECT_STATUSES:
            problem += f" to {response.get('Location')}"
        exc_info = getattr(response, "exc_info", None)
        if exc_info:
            problem += f" ({exc_info[0].__name__}: {exc_info[1]})"
        page.problems.append(problem)
    elif response.status_code == access.status and response.status_code not in REDIRECT_STATUSES:
        shown = text_of(content.decode("utf-8", "replace")) if page.is_html else content.decode("utf-8", "replace")
        if access.text.lower() not in shown.lower():
            page.problems.append(f"{where}: declared text {access.text!r} is missing")
    if response.status_code in REDIRECT_STATUSES and response.get("Location"):
        page.links.append(urljoin(url, response["Location"]))
    if page.is_html and response.status_code not in REDIRECT_STATUSES:
        html = content.decode("utf-8", "replace")
        for match in FORBIDDEN_WORDS.finditer(text_of(html)):
            page.problems.append(f"{where}: unfinished wording {match.group(0)!r} in the visible text")
        root = parse_html(html)
        page.problems.extend(f"{where}: {p}" for p in empty_list_problems(root))
        page.links.extend(urljoin(url, href) for href in nav_links(root))
        page.forms = forms_of(root, url)
    if persona != owner and CONSENT_CANARY.encode() in content:
        page.problems.append(
            f"{where}: shows the consent canary {CONSENT_CANARY!r} (a private title of {CANARY_OWNER})"
        )
    return page


# --- Crawling ---------------------------------------------------------------------


def same_site_path(url: str) -> str | None:
    """The path and query of a same-site URL worth crawling, else None."""
    parts = urlsplit(url)
    if parts.scheme not in ("", "http", "https") or parts.netloc not in ("", HOST):
        return None
    if not parts.path.startswith("/") or parts.path.startswith(("/static/", "/media/")):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def follow_worthy(name: str | None) -> bool:
    """Links the crawler does not follow: signing out, and the admin beyond its index."""
    if name == "account_logout":
        return False
    return not (name and name.startswith("admin:") and name != "admin:index")


def start_urls(user) -> tuple[list[tuple[str, str]], list[str], set[str]]:
    """The sample URL of every map entry this user may GET, problems building
    them, and the entries without a sample (no demo object: not opened)."""
    get_resolver().url_patterns  # noqa: B018 - importing the URLconfs registers the map entries
    roles = roles_of(user)
    urls, problems, unsampled = [], [], set()
    for name, access in sorted(perm.PERMISSIONS.items()):
        if "GET" not in access.methods or not access.allows(roles):
            continue
        try:
            kwargs = access.sample(user)
            if kwargs is None:
                unsampled.add(name)
                continue
            urls.append((name, reverse(name, kwargs=kwargs or None)))
        except NoReverseMatch as exc:
            problems.append(f"{name}: its sample does not build a URL ({exc})")
        except Exception as exc:  # noqa: BLE001 - a broken sample is reported, not fatal
            problems.append(f"{name}: its sample raised {type(exc).__name__}: {exc}")
    for namespace, access in perm.NAMESPACES.items():
        index = f"{namespace}:index"
        if access.allows(roles):
            try:
                urls.append((index, reverse(index)))
            except NoReverseMatch:
                pass
    return urls, problems, unsampled


@dataclass
class Crawl:
    persona: str
    pages: list[Page]
    problems: list[str]  # problems not tied to one page (samples)
    seconds: float
    unsampled: set[str] = field(default_factory=set)

    @property
    def all_problems(self) -> list[str]:
        return self.problems + [p for page in self.pages for p in page.problems]


def make_client(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def crawl_persona(persona: str, user, *, owner: str = CANARY_OWNER) -> Crawl:
    """Open every page `user` may open, and every nav link and redirect from them."""
    started = time.perf_counter()
    client = make_client(user)
    starts, problems, unsampled = start_urls(user)
    queue: list[tuple[str, str]] = [(url, "map") for _name, url in starts]
    seen = {url for url, _via in queue}
    per_view: Counter[str] = Counter()
    pages: list[Page] = []
    while queue and len(pages) < MAX_PAGES_PER_PERSONA:
        url, via = queue.pop(0)
        page = None
        try:
            # A savepoint per request: a view that breaks the transaction
            # (a database error) fails its own page, not every page after it.
            with transaction.atomic():
                page = check_url(client, url, persona=persona, user=user, via=via, owner=owner)
        except DatabaseError as exc:
            if page is None:
                raise
            page.problems.append(f"{persona} {url}: left the database transaction broken ({exc})")
        pages.append(page)
        for link in page.links:
            path = same_site_path(link)
            if path is None or path in seen:
                continue
            name = resolve_name(path)
            if not follow_worthy(name) or per_view[name or path] >= MAX_URLS_PER_VIEW:
                continue
            per_view[name or path] += 1
            seen.add(path)
            queue.append((path, "redirect" if page.status in REDIRECT_STATUSES else "nav"))
    return Crawl(persona, pages, problems, time.perf_counter() - started, unsampled)


def persona_users() -> dict[str, object]:
    from members.demo import demo_email
    from members.models import User

    users = {}
    for persona, local in PERSONAS.items():
        users[persona] = None if local is None else User.objects.get(email=demo_email(local))
    return users


def crawl_all() -> dict[str, Crawl]:
    return {persona: crawl_persona(persona, user) for persona, user in persona_users().items()}


# --- Reporting --------------------------------------------------------------------


def format_table(crawls: dict[str, Crawl]) -> str:
    """Pages (view names) x roles: the status each role got, '-' when not opened."""
    personas = list(crawls)
    cells: dict[str, dict[str, str]] = {}
    for persona, crawl in crawls.items():
        for page in crawl.pages:
            row = page.view_name or page.url
            mark = str(page.status) + ("" if not page.problems else "!")
            previous = cells.setdefault(row, {}).get(persona)
            cells[row][persona] = mark if previous is None or previous == mark else f"{previous},{mark}"[:11]
    width = max([len(r) for r in cells] + [4])
    lines = ["page".ljust(width) + "  " + " ".join(p[:11].rjust(11) for p in personas)]
    for row in sorted(cells):
        lines.append(row.ljust(width) + "  " + " ".join(cells[row].get(p, "-").rjust(11) for p in personas))
    total = sum(len(c.pages) for c in crawls.values())
    seconds = sum(c.seconds for c in crawls.values())
    lines.append(
        f"{len(cells)} pages x {len(personas)} roles: {total} responses checked in {seconds:.1f} s "
        "(status per role; '!' marks a problem, '-' not opened)"
    )
    slowest = sorted((p for c in crawls.values() for p in c.pages), key=lambda p: -p.seconds)[:5]
    lines.append("slowest: " + ", ".join(f"{p.persona} {p.url} {p.seconds * 1000:.0f} ms" for p in slowest))
    opened = {page.view_name for c in crawls.values() for page in c.pages}
    unsampled = sorted(set().union(*(c.unsampled for c in crawls.values())) - opened)
    if unsampled:
        lines.append("not opened, no demo object to show: " + ", ".join(unsampled))
    return "\n".join(lines)


# --- The URL patterns -------------------------------------------------------------


def url_patterns(urlconf=None):
    """(route, name, callback) for every URL pattern, names with their namespaces."""

    def walk(patterns, prefix, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = p.namespace or namespace
                if namespace and p.namespace:
                    ns = f"{namespace}:{p.namespace}"
                yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern):
                name = f"{namespace}:{p.name}" if namespace and p.name else p.name
                yield prefix + str(p.pattern), name, p.callback

    yield from walk(get_resolver(urlconf).url_patterns, "", None)


def unmapped_routes(urlconf=None) -> list[str]:
    """Named URL patterns without a permission-map entry (the middleware refuses them)."""
    return [f"{route} ({name})" for route, name, _cb in url_patterns(urlconf) if name and perm.access_for(name) is None]


def csrf_exempt_url_names(urlconf=None) -> set[str]:
    """Names of the views that switched CSRF protection off (@csrf_exempt)."""
    return {name or route for route, name, cb in url_patterns(urlconf) if getattr(cb, "csrf_exempt", False)}


# --- CSRF: every POST form refuses a request without a token --------------------


def post_forms(crawls: dict[str, Crawl]) -> list[tuple[str, Form]]:
    """Each kind of same-site POST form the crawl found: one per (persona, view posted to).

    A list page repeats one form per item (save, recommend...): the view and
    its protection are the same, so one of them stands for all.
    """
    found: dict[tuple[str, str], Form] = {}
    for persona, crawl in crawls.items():
        for page in crawl.pages:
            for form in page.forms:
                path = same_site_path(form.action)
                if form.method == "post" and path is not None:
                    found.setdefault((persona, resolve_name(path) or path), form)
    return [(persona, form) for (persona, _view), form in sorted(found.items())]


def csrf_client(user=None) -> Client:
    """A client that enforces CSRF like a browser would, signed in as `user`."""
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def csrf_problem(form: Form, *, persona: str, user=None, client: Client | None = None) -> str | None:
    """POST the form as `user` with CSRF checks on and no token: it must be refused (403).

    Views named in core.permissions.CSRF_EXEMPT_URL_NAMES are the declared
    exceptions (tested on their own) and are skipped.
    """
    path = same_site_path(form.action)
    if path is None or resolve_name(path) in perm.CSRF_EXEMPT_URL_NAMES:
        return None
    client = client or csrf_client(user)
    data: dict[str, list[str]] = {}
    for name, value in form.fields:
        if name != "csrfmiddlewaretoken":
            data.setdefault(name, []).append(value)
    response = client.post(path, data)
    if response.status_code == 403 and b"CSRF" in body_of(response):
        return None
    return (
        f"{persona}: the form on {form.page_url} posting to {path} was accepted without a CSRF token "
        f"(answered {response.status_code})"
    )


# --- Security headers -------------------------------------------------------------


def header_problems(headers: dict[str, str], *, https: bool = False) -> list[str]:
    """What is wrong with one response's security headers (names case-insensitive)."""
    h = {k.lower(): v for k, v in headers.items()}
    problems = []
    csp = h.get("content-security-policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.split()}
    if not csp:
        problems.append("no Content-Security-Policy")
    for unsafe in ("'unsafe-inline'", "'unsafe-eval'"):
        if unsafe in csp:
            problems.append(f"Content-Security-Policy allows {unsafe}")
    if directives.get("frame-ancestors") != ["'none'"] and h.get("x-frame-options", "").upper() != "DENY":
        problems.append("may be framed: neither frame-ancestors 'none' nor X-Frame-Options: DENY")
    if h.get("x-content-type-options", "").lower() != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if not h.get("referrer-policy"):
        problems.append("no Referrer-Policy")
    if https:
        hsts = h.get("strict-transport-security", "")
        if not re.search(r"max-age=(\d{7,})", hsts):  # at least ~4 months
            problems.append(f"over HTTPS, no long Strict-Transport-Security (got {hsts!r})")
    return problems
