"""Platforms: from what a person knows (a handle, a profile link) to a feed URL.

People know their Mastodon handle or their YouTube channel's address, not the
feed behind it. Each :class:`Platform` turns such input into the public feed
URL, or explains in one sentence what is wrong with it
(:class:`PlatformInputError`). Pure functions: nothing here touches the
network.

Some inputs only lead to a feed by reading a web page (a blog's address, a
YouTube @handle). For those, ``feed_url()`` raises
:class:`PlatformNeedsDiscovery` carrying the page URL; the caller hands it to
:func:`feeds.discovery.discover`.

LinkedIn and X have no public feed: they are stored as profile links only
(``has_feed`` is False) and never fetched.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from feeds.fetch import BadURL, check_url, normalize_url


class PlatformInputError(ValueError):
    """The input cannot be turned into a feed; ``message`` says why, for the member."""

    def __init__(self, message: str) -> None:
        message = str(message)  # a lazy translation is rendered in the active language now
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class PlatformNeedsDiscovery(Exception):  # a signal, not an error
    """Not an error: the feed must be found on the page at ``url`` (feed discovery)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


@dataclass(frozen=True)
class Platform:
    """One kind of account or source, and the rules for its input.

    ``example`` is shown in forms. ``has_feed`` is False for link-only
    profiles. ``uses_discovery`` is True when the input is normally a web
    page whose feed is found by discovery.
    """

    slug: str
    label: str
    example: str
    has_feed: bool
    _feed_url: Callable[[str], str] | None = field(repr=False, compare=False)
    _profile_url: Callable[[str], str] = field(repr=False, compare=False)
    uses_discovery: bool = False

    def feed_url(self, value: str) -> str:
        """The feed URL for ``value``.

        Raises :class:`PlatformInputError` (with a message for the member) or
        :class:`PlatformNeedsDiscovery` (with the page to discover).
        """
        if self._feed_url is None:
            raise PlatformInputError(
                _("%(platform)s has no public feed, so plnorg only links to the profile.") % {"platform": self.label}
            )
        return check_url(self._feed_url(self._clean(value)))

    def profile_url(self, value: str) -> str:
        """The public page of the account (what a colleague would click)."""
        return check_url(self._profile_url(self._clean(value)))

    def _clean(self, value: str) -> str:
        value = value.strip() if isinstance(value, str) else ""
        if not value:
            raise PlatformInputError(
                _("Enter a %(platform)s handle or link, for example %(example)s.")
                % {"platform": self.label, "example": self.example}
            )
        return value


# --------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Link:
    host: str  # lower-case, without port
    netloc: str  # host plus a non-default port
    segments: list[str]  # non-empty, percent-decoded path segments
    query: dict[str, list[str]]


def _is_link(value: str) -> bool:
    return "://" in value or "/" in value


def _parse_link(value: str) -> _Link:
    """Parse a pasted link; "bsky.app/profile/x" without a scheme is fine."""
    url = value if "://" in value else "https://" + value
    try:
        url = normalize_url(url)
    except BadURL as exc:
        raise PlatformInputError(exc.message) from exc
    parts = urllib.parse.urlsplit(url)
    return _Link(
        host=parts.hostname or "",
        netloc=parts.netloc,
        segments=[urllib.parse.unquote(segment) for segment in parts.path.split("/") if segment],
        query=urllib.parse.parse_qs(parts.query),
    )


def _bare_host(host: str) -> str:
    for prefix in ("www.", "m.", "mobile."):
        if host.startswith(prefix):
            return host[len(prefix) :]
    return host


# A server or site name: labels, at least one dot, a top-level domain that
# starts with a letter (so "localhost" and "10.0.0.1" are not servers).
_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}(?::[0-9]{1,5})?")


def _server(value: str, example: str) -> str:
    server = value.lower()
    if not server.isascii():
        try:
            server = urllib.parse.urlsplit(normalize_url(f"https://{server}/")).netloc
        except BadURL:
            server = ""
    if not _DOMAIN.fullmatch(server):
        raise PlatformInputError(
            _('"%(value)s" is not a server name. A server name looks like %(example)s.')
            % {"value": value, "example": example}
        )
    return server


# --------------------------------------------------------------------------
# Mastodon and the rest of the fediverse
# --------------------------------------------------------------------------

# Mastodon's own rule: letters, digits, underscores; dots and dashes inside.
_MASTODON_USER = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?", re.IGNORECASE)


def _mastodon_account(value: str) -> tuple[str, str]:
    if _is_link(value):
        link = _parse_link(value)
        segments = link.segments[1:] if link.segments[:1] == ["web"] else link.segments
        if segments and segments[0].startswith("@"):
            handle = segments[0][1:]
            # https://home.server/@ana@other.server: an account seen from another server
            user, _at, server = handle.partition("@")
            server = server or link.netloc
        elif len(segments) >= 2 and segments[0] == "users":
            user, server = segments[1], link.netloc
        else:
            raise PlatformInputError(
                _(
                    "That link does not point to a Mastodon account. "
                    "Use the address of a profile, like https://mastodon.social/@ana."
                )
            )
    else:
        handle = value[1:] if value.startswith("@") else value
        user, _at, server = handle.partition("@")
        if not server and _MASTODON_USER.fullmatch(user):
            raise PlatformInputError(
                _("Add the server: @%(user)s@server (for example @%(user)s@mastodon.social).") % {"user": user}
            )
    if not _MASTODON_USER.fullmatch(user) or len(user) > 64:
        raise PlatformInputError(
            _(
                "A Mastodon user name has only letters, digits and underscores (dots and dashes inside), "
                "like @ana@mastodon.social."
            )
        )
    return user.lower(), _server(server, "mastodon.social")


def _mastodon_feed(value: str) -> str:
    user, server = _mastodon_account(value)
    return f"https://{server}/@{user}.rss"


def _mastodon_profile(value: str) -> str:
    user, server = _mastodon_account(value)
    return f"https://{server}/@{user}"


# --------------------------------------------------------------------------
# Bluesky
# --------------------------------------------------------------------------

# AT Protocol handle syntax: domain labels, a top-level domain starting with a letter.
_BLUESKY_HANDLE = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?")
_BLUESKY_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_DID = re.compile(r"did:(?:plc:[a-z2-7]{24}|web:[a-z0-9.-]+)")


def _bluesky_handle(value: str) -> str:
    if _is_link(value):
        link = _parse_link(value)
        host = _bare_host(link.host)
        if host == "bsky.app":
            if len(link.segments) < 2 or link.segments[0] != "profile":
                raise PlatformInputError(
                    _(
                        "That Bluesky link does not point to a profile. "
                        "Use an address like https://bsky.app/profile/ana.bsky.social."
                    )
                )
            handle = link.segments[1]
        elif not link.segments:  # https://ana.bsky.social/ : the handle as a web address
            handle = link.host
        else:
            raise PlatformInputError(
                _("That is not a Bluesky link. Use an address like https://bsky.app/profile/ana.bsky.social.")
            )
    else:
        handle = value[1:] if value.startswith("@") else value
    handle = handle.lower()
    if _DID.fullmatch(handle):
        return handle
    if "@" in handle:
        raise PlatformInputError(_("A Bluesky handle has no @ inside: write ana.bsky.social, not ana@bsky.social."))
    if _BLUESKY_LABEL.fullmatch(handle):
        raise PlatformInputError(_("Add the domain: %(handle)s.bsky.social (or your own domain).") % {"handle": handle})
    if len(handle) > 253 or not _BLUESKY_HANDLE.fullmatch(handle):
        raise PlatformInputError(
            _("That is not a Bluesky handle. A handle looks like ana.bsky.social or a domain such as ana.example.com.")
        )
    return handle


# --------------------------------------------------------------------------
# YouTube
# --------------------------------------------------------------------------

_CHANNEL_ID = re.compile(r"UC[A-Za-z0-9_-]{22}")
_YOUTUBE_HANDLE = re.compile(r"[A-Za-z0-9._-]{3,30}")
_PLAYLIST_ID = re.compile(r"[A-Za-z0-9_-]{10,64}")
_YOUTUBE_HOSTS = frozenset({"youtube.com", "music.youtube.com"})
_YOUTUBE_FEED = "https://www.youtube.com/feeds/videos.xml"
_YOUTUBE_VIDEO_LINK = gettext_lazy(
    "That is a link to a single video. Paste the channel's address instead, "
    "like https://www.youtube.com/@name or https://www.youtube.com/channel/UC..."
)
_YOUTUBE_NOT_A_CHANNEL = gettext_lazy(
    "That YouTube link does not point to a channel. "
    "Use an address like https://www.youtube.com/@name or https://www.youtube.com/channel/UC..."
)


def _youtube_target(value: str) -> tuple[str, str]:
    """("channel", id), ("playlist", id) or ("page", url of a page to discover)."""
    if _CHANNEL_ID.fullmatch(value):
        return "channel", value
    if not _is_link(value):
        handle = value[1:] if value.startswith("@") else value
        if _YOUTUBE_HANDLE.fullmatch(handle):
            return "page", f"https://www.youtube.com/@{handle}"
        raise PlatformInputError(
            _(
                "That is not a YouTube channel. Paste the channel's address, like https://www.youtube.com/@name, "
                "or its id (24 characters starting with UC)."
            )
        )
    link = _parse_link(value)
    host = _bare_host(link.host)
    if host == "youtu.be":
        raise PlatformInputError(_YOUTUBE_VIDEO_LINK)
    if host not in _YOUTUBE_HOSTS:
        raise PlatformInputError(
            _("That is not a YouTube link. Use the channel's address, like https://www.youtube.com/@name.")
        )
    first, rest = (link.segments[0], link.segments[1:]) if link.segments else ("", [])
    if first == "channel" and rest:
        if not _CHANNEL_ID.fullmatch(rest[0]):
            raise PlatformInputError(_("That channel id is not valid: it has 24 characters and starts with UC."))
        return "channel", rest[0]
    if first.startswith("@"):
        if not _YOUTUBE_HANDLE.fullmatch(first[1:]):
            raise PlatformInputError(_("That YouTube handle is not valid."))
        return "page", f"https://www.youtube.com/{first}"
    if first in ("c", "user") and rest:
        return "page", f"https://www.youtube.com/{first}/{urllib.parse.quote(rest[0])}"
    if first == "playlist" or (first == "feeds" and rest == ["videos.xml"]):
        for key, kind, pattern in (("channel_id", "channel", _CHANNEL_ID), ("list", "playlist", _PLAYLIST_ID)):
            ids = link.query.get(key) or []
            if ids and pattern.fullmatch(ids[0]):
                return kind, ids[0]
        ids = link.query.get("playlist_id") or []
        if ids and _PLAYLIST_ID.fullmatch(ids[0]):
            return "playlist", ids[0]
    if first in ("watch", "shorts", "live", "embed"):
        raise PlatformInputError(_YOUTUBE_VIDEO_LINK)
    raise PlatformInputError(_YOUTUBE_NOT_A_CHANNEL)


def _youtube_feed(value: str) -> str:
    kind, ident = _youtube_target(value)
    if kind == "page":
        raise PlatformNeedsDiscovery(ident)
    key = "channel_id" if kind == "channel" else "playlist_id"
    return f"{_YOUTUBE_FEED}?{key}={ident}"


def _youtube_profile(value: str) -> str:
    kind, ident = _youtube_target(value)
    if kind == "channel":
        return f"https://www.youtube.com/channel/{ident}"
    if kind == "playlist":
        return f"https://www.youtube.com/playlist?list={ident}"
    return ident


# --------------------------------------------------------------------------
# Sites with one account per path: GitHub, Medium, DEV, X, LinkedIn
# --------------------------------------------------------------------------

_GITHUB_USER = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,38}", re.IGNORECASE)
_GITHUB_RESERVED = frozenset(
    {"about", "explore", "features", "login", "marketplace", "orgs", "settings", "signup", "sponsors", "topics"}
)


def _github_user(value: str) -> str:
    if _is_link(value):
        link = _parse_link(value)
        if _bare_host(link.host) != "github.com":
            raise PlatformInputError(_("That is not a GitHub link. Use an address like https://github.com/octocat."))
        if not link.segments:
            raise PlatformInputError(_("Add the user name: https://github.com/octocat."))
        if len(link.segments) > 1:
            raise PlatformInputError(
                _(
                    "That is a link to a repository or a page. Use the person's profile, like https://github.com/octocat."
                )
            )
        user = link.segments[0].removesuffix(".atom")
    else:
        user = value[1:] if value.startswith("@") else value
    if not _GITHUB_USER.fullmatch(user) or user.lower() in _GITHUB_RESERVED:
        raise PlatformInputError(
            _("A GitHub user name has only letters, digits and single dashes, like octocat (at most 39 characters).")
        )
    return user.lower()


_MEDIUM_USER = re.compile(r"[a-z0-9_.-]{1,50}", re.IGNORECASE)


def _medium_feed_path(value: str) -> str:
    """The part after https://medium.com/feed/: "@user" or a publication's name."""
    if _is_link(value) or (not value.startswith("@") and value.lower().endswith(".medium.com")):
        link = _parse_link(value)
        host = _bare_host(link.host)
        if host.endswith(".medium.com"):  # ana.medium.com: a profile on its own subdomain
            name = "@" + host.removesuffix(".medium.com")
        elif host == "medium.com" and link.segments:
            segments = link.segments[1:] if link.segments[0] == "feed" else link.segments
            if not segments:
                raise PlatformInputError(_("Add the user name: https://medium.com/@ana."))
            name = segments[0]
        elif host == "medium.com":
            raise PlatformInputError(_("Add the user name: https://medium.com/@ana."))
        else:
            raise PlatformInputError(_("That is not a Medium link. Use an address like https://medium.com/@ana."))
    else:
        name = value if value.startswith("@") else "@" + value
    if not _MEDIUM_USER.fullmatch(name.removeprefix("@")):
        raise PlatformInputError(_("A Medium user name has only letters, digits, dots and underscores, like @ana."))
    return name.lower()


def _medium_feed(value: str) -> str:
    return f"https://medium.com/feed/{_medium_feed_path(value)}"


def _medium_profile(value: str) -> str:
    return f"https://medium.com/{_medium_feed_path(value)}"


_DEVTO_USER = re.compile(r"[a-z0-9_]{1,30}", re.IGNORECASE)


def _devto_user(value: str) -> str:
    if _is_link(value):
        link = _parse_link(value)
        if _bare_host(link.host) != "dev.to":
            raise PlatformInputError(_("That is not a DEV link. Use an address like https://dev.to/ana."))
        segments = link.segments[1:] if link.segments[:1] == ["feed"] else link.segments
        if not segments:
            raise PlatformInputError(_("Add the user name: https://dev.to/ana."))
        user = segments[0]
    else:
        user = value[1:] if value.startswith("@") else value
    if not _DEVTO_USER.fullmatch(user):
        raise PlatformInputError(_("A DEV user name has only letters, digits and underscores, like ana."))
    return user.lower()


_X_USER = re.compile(r"[A-Za-z0-9_]{1,15}")
_X_HOSTS = frozenset({"x.com", "twitter.com"})
_X_RESERVED = frozenset(
    {"home", "explore", "search", "i", "intent", "settings", "messages", "notifications", "hashtag"}
)


def _x_profile(value: str) -> str:
    if _is_link(value):
        link = _parse_link(value)
        if _bare_host(link.host) not in _X_HOSTS:
            raise PlatformInputError(_("That is not an X (Twitter) link. Use an address like https://x.com/ana."))
        if not link.segments:
            raise PlatformInputError(_("Add the user name: https://x.com/ana."))
        user = link.segments[0]
    else:
        user = value[1:] if value.startswith("@") else value
    if not _X_USER.fullmatch(user) or user.lower() in _X_RESERVED:
        raise PlatformInputError(
            _("An X user name has only letters, digits and underscores (at most 15 characters), like @ana.")
        )
    return f"https://x.com/{user}"


_LINKEDIN_SLUG = re.compile(r"[\w-]{2,100}")
_LINKEDIN_KINDS = frozenset({"in", "company", "school", "showcase"})


def _linkedin_profile(value: str) -> str:
    if _is_link(value):
        link = _parse_link(value)
        if link.host != "linkedin.com" and not link.host.endswith(".linkedin.com"):
            raise PlatformInputError(
                _("That is not a LinkedIn link. Use an address like https://www.linkedin.com/in/ana.")
            )
        if len(link.segments) < 2 or link.segments[0] not in _LINKEDIN_KINDS:
            raise PlatformInputError(
                _(
                    "That LinkedIn link does not point to a profile or a company page. "
                    "Use an address like https://www.linkedin.com/in/ana."
                )
            )
        kind, slug = link.segments[0], link.segments[1]
    else:
        kind, slug = "in", value[1:] if value.startswith("@") else value
    if not _LINKEDIN_SLUG.fullmatch(slug):
        raise PlatformInputError(
            _("That is not a LinkedIn profile name. Paste the profile's address, like https://www.linkedin.com/in/ana.")
        )
    return f"https://www.linkedin.com/{kind}/{urllib.parse.quote(slug)}/"


# --------------------------------------------------------------------------
# Substack and any website: discovery
# --------------------------------------------------------------------------

_SUBSTACK_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def _substack_name(value: str) -> str:
    """The publication's subdomain, or PlatformNeedsDiscovery for a custom domain."""
    if _is_link(value) or "." in value:
        link = _parse_link(value)
        host = _bare_host(link.host)
        if host in ("substack.com", "open.substack.com"):
            raise PlatformInputError(
                _("That is a Substack page, not a newsletter. Paste the newsletter's address, like name.substack.com.")
            )
        if not host.endswith(".substack.com"):
            if not _DOMAIN.fullmatch(link.netloc):
                raise PlatformInputError(_("That is not a web address. It looks like name.substack.com."))
            raise PlatformNeedsDiscovery(f"https://{link.netloc}/")  # a custom domain
        name = host.removesuffix(".substack.com")
    else:
        name = value.lower()
    if not _SUBSTACK_NAME.fullmatch(name):
        raise PlatformInputError(_("A Substack name has only letters, digits and dashes, like name.substack.com."))
    return name


def _substack_feed(value: str) -> str:
    return f"https://{_substack_name(value)}.substack.com/feed"


def _substack_profile(value: str) -> str:
    try:
        return f"https://{_substack_name(value)}.substack.com/"
    except PlatformNeedsDiscovery as signal:
        return signal.url


def _site_url(value: str) -> str:
    link = _parse_link(value)  # validates, and adds https:// when missing
    if not _DOMAIN.fullmatch(link.netloc):
        raise PlatformInputError(_("That is not a web address. It looks like https://example.com/blog."))
    return normalize_url(value if "://" in value else "https://" + value)


def _site_feed(value: str) -> str:
    raise PlatformNeedsDiscovery(_site_url(value))


# --------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------

PLATFORMS: tuple[Platform, ...] = (
    Platform("mastodon", "Mastodon", "@ana@mastodon.social", True, _mastodon_feed, _mastodon_profile),
    Platform(
        "bluesky",
        "Bluesky",
        "ana.bsky.social",
        True,
        lambda value: f"https://bsky.app/profile/{_bluesky_handle(value)}/rss",
        lambda value: f"https://bsky.app/profile/{_bluesky_handle(value)}",
    ),
    Platform("youtube", "YouTube", "https://www.youtube.com/@name", True, _youtube_feed, _youtube_profile),
    Platform(
        "github",
        "GitHub",
        "octocat",
        True,
        lambda value: f"https://github.com/{_github_user(value)}.atom",
        lambda value: f"https://github.com/{_github_user(value)}",
    ),
    Platform("substack", "Substack", "name.substack.com", True, _substack_feed, _substack_profile),
    Platform("medium", "Medium", "@ana", True, _medium_feed, _medium_profile),
    Platform(
        "devto",
        "DEV",
        "ana",
        True,
        lambda value: f"https://dev.to/feed/{_devto_user(value)}",
        lambda value: f"https://dev.to/{_devto_user(value)}",
    ),
    Platform(
        "blog", gettext_lazy("Blog"), "https://example.com/blog", True, _site_feed, _site_url, uses_discovery=True
    ),
    Platform(
        "podcast",
        gettext_lazy("Podcast"),
        "https://example.com/podcast.xml",
        True,
        _site_feed,
        _site_url,
        uses_discovery=True,
    ),
    Platform(
        "newsletter",
        gettext_lazy("Newsletter"),
        "https://example.com/newsletter",
        True,
        _site_feed,
        _site_url,
        uses_discovery=True,
    ),
    Platform(
        "website",
        gettext_lazy("Any website or feed"),
        "https://example.com",
        True,
        _site_feed,
        _site_url,
        uses_discovery=True,
    ),
    Platform("linkedin", "LinkedIn", "https://www.linkedin.com/in/ana", False, None, _linkedin_profile),
    Platform("x", "X (Twitter)", "@ana", False, None, _x_profile),
)

_BY_SLUG = {platform.slug: platform for platform in PLATFORMS}


def get_platform(slug: str) -> Platform:
    """The platform with this slug; KeyError for an unknown one."""
    try:
        return _BY_SLUG[slug]
    except KeyError:
        raise KeyError(f"Unknown platform: {slug!r}") from None


def choices() -> list[tuple[str, str]]:
    """(slug, label) pairs, in display order, for form fields and model choices."""
    return [(platform.slug, platform.label) for platform in PLATFORMS]


_HOST_PLATFORMS = {
    "bsky.app": "bluesky",
    "youtube.com": "youtube",
    "music.youtube.com": "youtube",
    "youtu.be": "youtube",
    "github.com": "github",
    "substack.com": "substack",
    "medium.com": "medium",
    "dev.to": "devto",
    "linkedin.com": "linkedin",
    "x.com": "x",
    "twitter.com": "x",
}
_HOST_SUFFIX_PLATFORMS = {".substack.com": "substack", ".medium.com": "medium", ".linkedin.com": "linkedin"}
_MASTODON_PATH = re.compile(r"@[^/@]+(?:@[^/@]+)?")
_MASTODON_HANDLE = re.compile(r"@[^@/\s]+@[^@/\s]+\.[^@/\s]+")


def detect_platform(url: str) -> Platform | None:
    """Guess the platform of a pasted link (or a @user@server handle); None if unsure."""
    value = url.strip() if isinstance(url, str) else ""
    if _MASTODON_HANDLE.fullmatch(value):
        return _BY_SLUG["mastodon"]
    if not _is_link(value):
        return None
    try:
        link = _parse_link(value)
    except PlatformInputError:
        return None
    host = _bare_host(link.host)
    slug = _HOST_PLATFORMS.get(host)
    if slug is None:
        slug = next((s for suffix, s in _HOST_SUFFIX_PLATFORMS.items() if host.endswith(suffix)), None)
    if slug is None and link.segments and _MASTODON_PATH.fullmatch(link.segments[0]):
        slug = "mastodon"
    return _BY_SLUG[slug] if slug else None
