"""The safe fetcher: every outbound HTTP request plnorg makes goes through here.

Members give plnorg URLs, and plnorg fetches them from inside the
organization's network. Without care that turns the feed reader into a proxy
for reaching what only the server can reach (SSRF): the cloud metadata
service at 169.254.169.254, an admin page on localhost, a database on
10.0.0.5. So this module:

- accepts only http and https URLs in plain, unambiguous shapes: no user
  names in URLs, no control characters, and no numeric host spellings such as
  ``2130706433`` or ``0x7f.1`` that resolvers quietly turn into 127.0.0.1;
- resolves the host name itself, refuses the request if ANY address the name
  resolves to is loopback, private, link-local, shared (CGNAT), multicast,
  reserved, unspecified or broadcast, including the IPv6 forms that embed such
  an IPv4 address (IPv4-mapped, NAT64, 6to4, Teredo);
- connects to an address it checked and never looks the name up a second
  time, so a DNS answer that changes between check and connection (DNS
  rebinding) cannot redirect it. For https the certificate is still checked
  against the real host name;
- follows redirects itself, checking every hop the same way (``send``, for
  the POST and PUT of chat webhooks, follows none);
- bounds the whole fetch by a wall-clock deadline and the body by a size cap
  counted after decompression, so slow or compressed "bomb" responses cannot
  tie up or exhaust a worker.

A :class:`FetchSession` lets a batch keep one connection per host between
its fetches; every fetch through it is checked exactly as one without it.

Refusals and network failures raise a :class:`FetchError` subclass whose
``str()`` is a sentence a member can read, in the language active when the
error was raised (the messages are translatable). Any HTTP status, including 304,
404, 410 and 429, is returned in a :class:`FetchResult` for the caller to act
on.

Settings (all optional, read at call time):

- ``FETCH_ALLOWED_PRIVATE_NETWORKS``: CIDR strings that are allowed although
  they are not public, e.g. ``["127.0.0.0/8"]`` for tests or an intranet.
- ``FETCH_USER_AGENT``: the User-Agent header.
- ``FETCH_CA_BUNDLE``: path to a CA bundle to trust instead of certifi's.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import os
import re
import select
import socket
import ssl
import threading
import time
import unicodedata
import urllib.parse
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import certifi
import httpcore
import httpx
import idna
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation
from django.utils.functional import lazy

try:
    import brotli
except ImportError:  # pragma: no cover - brotli is in requirements.txt
    brotli = None

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_DEADLINE_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 10.0
MAX_REDIRECTS = 5
MAX_URL_LENGTH = 2048
DEFAULT_USER_AGENT = "plnorg/1.0 (+https://github.com/plnorg/plnorg; feed reader)"
DEFAULT_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
ACCEPT_ENCODING = "gzip, deflate, br" if brotli is not None else "gzip, deflate"

_DEFAULT_PORTS = {"http": 80, "https": 443}
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_PERMANENT_REDIRECT_STATUSES = frozenset({301, 308})
# The redirects that keep the method and the body (RFC 9110 15.4): the only
# ones a POST follows.
_METHOD_KEEPING_REDIRECT_STATUSES = frozenset({307, 308})
# Decompressed output is produced in pieces of at most this size, so a
# compression bomb is noticed after one piece, not after it has expanded.
_PIECE_BYTES = 64 * 1024


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


# Django's gettext, falling back to the English text when Django is not
# configured: the fetcher also runs in plain scripts, as `_setting` allows.
def _(message: str) -> str:
    try:
        return translation.gettext(message)
    except ImproperlyConfigured:
        return message


def ngettext(singular: str, plural: str, number: int) -> str:
    try:
        return translation.ngettext(singular, plural, number)
    except ImproperlyConfigured:
        return singular if number == 1 else plural


gettext_lazy = lazy(_, str)


class FetchError(Exception):
    """Base class: plnorg refused to fetch a URL or could not fetch it.

    ``str(error)`` is a sentence meant for members; ``error.url`` is the URL
    concerned when known.
    """

    default_message = gettext_lazy("plnorg could not fetch that address.")

    def __init__(self, message: str | None = None, *, url: str | None = None) -> None:
        # Rendered now, in the active language: the error then carries a plain
        # string (picklable, storable) rather than a lazy translation.
        self.message = str(message or self.default_message)
        self.url = url
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class BadURL(FetchError):
    """The URL is malformed or uses a shape plnorg does not accept."""

    default_message = gettext_lazy("That doesn't look like a web address.")


class UnsupportedScheme(BadURL):
    """The URL is not http or https (file:, ftp:, gopher:, javascript: ...)."""

    default_message = gettext_lazy("plnorg only fetches addresses that start with http:// or https://.")


_FORBIDDEN_MESSAGES = {
    "loopback": gettext_lazy(
        "That address points back to the server plnorg runs on (a loopback address), so plnorg will not fetch it."
    ),
    "private": gettext_lazy("That address is inside a private network, so plnorg will not fetch it."),
    "link-local": gettext_lazy(
        "That address is a link-local address, used only inside a local network or for "
        "cloud server settings, so plnorg will not fetch it."
    ),
    "shared": gettext_lazy(
        "That address belongs to an internet provider's internal network (100.64.0.0/10), so plnorg will not fetch it."
    ),
    "multicast": gettext_lazy(
        "That address is a multicast address, not a single website, so plnorg will not fetch it."
    ),
    "reserved": gettext_lazy(
        "That address is reserved and not used on the public internet, so plnorg will not fetch it."
    ),
    "unspecified": gettext_lazy(
        "That address (0.0.0.0 or ::) does not point to any website, so plnorg will not fetch it."
    ),
    "this-network": gettext_lazy('That address is in the 0.0.0.0/8 "this network" range, so plnorg will not fetch it.'),
    "broadcast": gettext_lazy("That address is a broadcast address, so plnorg will not fetch it."),
    "not-public": gettext_lazy("That address is not a public internet address, so plnorg will not fetch it."),
}


class ForbiddenAddress(FetchError):
    """The host is, or resolves to, an address plnorg must not connect to.

    ``reason`` is one of the keys of ``_FORBIDDEN_MESSAGES`` ("loopback",
    "private", "link-local", ...) and ``address`` the offending IP address.
    """

    def __init__(self, reason: str, *, address: str, url: str | None = None) -> None:
        self.reason = reason
        self.address = address
        super().__init__(_FORBIDDEN_MESSAGES[reason], url=url)


class TooManyRedirects(FetchError):
    def __init__(self, message: str | None = None, *, url: str | None = None) -> None:
        default = ngettext(
            "The site redirected more than %(count)d time, so plnorg stopped following it.",
            "The site redirected more than %(count)d times, so plnorg stopped following it.",
            MAX_REDIRECTS,
        ) % {"count": MAX_REDIRECTS}
        super().__init__(message or default, url=url)


class ResponseTooLarge(FetchError):
    def __init__(self, limit_bytes: int, *, url: str | None = None) -> None:
        self.limit_bytes = limit_bytes
        super().__init__(_("The response was larger than %(size)s.") % {"size": _human_size(limit_bytes)}, url=url)


class FetchTimeout(FetchError):
    default_message = gettext_lazy("The server took too long to answer.")


class ConnectionFailed(FetchError):
    default_message = gettext_lazy("plnorg could not connect to that site.")


class HostNotFound(ConnectionFailed):
    default_message = gettext_lazy("That site name could not be found. Check the address for typos.")


class TLSError(ConnectionFailed):
    default_message = gettext_lazy("A secure (https) connection to the site could not be set up.")


class InvalidResponse(FetchError):
    default_message = gettext_lazy("The site sent a reply plnorg could not understand.")


_CERTIFICATE_MESSAGE = gettext_lazy("The site's security certificate could not be verified, so plnorg did not connect.")
_DAMAGED_COMPRESSION_MESSAGE = gettext_lazy("The site sent a damaged compressed reply.")


def _human_size(size_bytes: int) -> str:
    """The size in words ("5 MB", "1.5 KB", "300 bytes"), in the active language."""

    def amount(units: float) -> str:
        return f"{units:.0f}" if units.is_integer() else f"{units:.1f}"

    if size_bytes >= 1024 * 1024:
        return _("%(amount)s MB") % {"amount": amount(size_bytes / (1024 * 1024))}
    if size_bytes >= 1024:
        return _("%(amount)s KB") % {"amount": amount(size_bytes / 1024)}
    return ngettext("%(count)d byte", "%(count)d bytes", size_bytes) % {"count": size_bytes}


# --------------------------------------------------------------------------
# URLs
# --------------------------------------------------------------------------

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# Schemes people paste that are clearly not a web address without "//" after them.
_OTHER_SCHEMES = frozenset({"file", "ftp", "gopher", "javascript", "data", "mailto", "about"})
_HOST_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
# What browsers and resolvers take for an IPv4 address: a last label that is
# decimal, octal (leading 0) or hex (0x...). See the WHATWG URL standard.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")
_CANONICAL_OCTET = re.compile(r"0|[1-9][0-9]{0,2}")
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"})


@dataclass(frozen=True)
class _Target:
    """A URL split into the parts the fetcher acts on, host in ASCII form."""

    scheme: str
    host: str  # IDNA (ASCII) name, or an IP address without brackets
    port: int
    path: str
    query: str
    ip: IPAddress | None  # set when the host is an IP literal

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if isinstance(self.ip, ipaddress.IPv6Address) else self.host
        if self.port == _DEFAULT_PORTS[self.scheme]:
            return host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        query = f"?{self.query}" if self.query else ""
        return f"{self.scheme}://{self.netloc}{self.path}{query}"


def _has_unsafe_characters(text: str) -> bool:
    return any(ch.isspace() or unicodedata.category(ch) in _UNSAFE_CATEGORIES for ch in text)


def _parse_url(url: str) -> _Target:
    """Validate ``url`` and split it, refusing every ambiguous shape.

    The checks are deliberately stricter than RFC 3986: anything that
    different URL parsers could read differently (user info, backslashes,
    numeric host spellings, control characters) is refused rather than
    interpreted.
    """
    if not isinstance(url, str) or not url:
        raise BadURL(url=None)
    if len(url) > MAX_URL_LENGTH:
        raise BadURL(_("That address is too long (over 2,000 characters)."), url=url)
    if _has_unsafe_characters(url):
        raise BadURL(_("That address contains spaces or invisible control characters."), url=url)

    scheme_match = _SCHEME.match(url)
    if scheme_match is None:
        raise BadURL(_("That address is missing http:// or https:// at the start."), url=url)
    scheme = scheme_match.group()[:-1].lower()
    after_scheme = url[scheme_match.end() :]
    if scheme not in _DEFAULT_PORTS:
        if after_scheme.startswith("//") or scheme in _OTHER_SCHEMES:
            raise UnsupportedScheme(url=url)
        # "example.com:8080/feed" parses as scheme "example.com".
        raise BadURL(_("That address is missing http:// or https:// at the start."), url=url)
    if not after_scheme.startswith("//"):
        raise BadURL(_("That address has no site name in it."), url=url)

    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError as exc:  # urlsplit only complains about [bracketed] hosts
        raise BadURL(_("The site name in that address is not valid."), url=url) from exc
    netloc = parts.netloc
    if "@" in netloc:
        raise BadURL(
            _("Addresses that include a user name or password (user@...) are not accepted."),
            url=url,
        )

    host_text, port_text, bracketed = _split_netloc(netloc, url)
    port = _parse_port(port_text, scheme, url)
    if not host_text:
        raise BadURL(_("That address has no site name in it."), url=url)
    if bracketed:
        host, ip = _parse_ipv6_literal(host_text, url)
    else:
        host, ip = _parse_host_name(host_text, url)
    return _Target(
        scheme=scheme,
        host=host,
        port=port,
        path=parts.path or "/",
        query=parts.query,
        ip=ip,
    )


def _split_netloc(netloc: str, url: str) -> tuple[str, str | None, bool]:
    if netloc.startswith("["):
        end = netloc.find("]")
        if end == -1:
            raise BadURL(_("The site name in that address is not valid."), url=url)
        rest = netloc[end + 1 :]
        if rest and not rest.startswith(":"):
            raise BadURL(_("The site name in that address is not valid."), url=url)
        return netloc[1:end], (rest[1:] if rest else None), True
    if netloc.count(":") > 1:
        # An IPv6 address without brackets, or garbage.
        raise BadURL(_("The site name in that address is not valid."), url=url)
    host, colon, port = netloc.partition(":")
    return host, (port if colon else None), False


def _parse_port(port_text: str | None, scheme: str, url: str) -> int:
    if not port_text:  # absent, or "host:" with nothing after it
        return _DEFAULT_PORTS[scheme]
    if not (port_text.isascii() and port_text.isdigit() and len(port_text) <= 5):
        raise BadURL(_("That address has an invalid port number."), url=url)
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise BadURL(_("That address has an invalid port number."), url=url)
    return port


def _parse_ipv6_literal(text: str, url: str) -> tuple[str, IPAddress]:
    if "%" in text:  # zone ids (fe80::1%eth0) only make sense on one machine
        raise BadURL(_("The site name in that address is not valid."), url=url)
    try:
        ip = ipaddress.IPv6Address(text)
    except ValueError as exc:
        raise BadURL(_("The site name in that address is not valid."), url=url) from exc
    return str(ip), ip


def _parse_host_name(text: str, url: str) -> tuple[str, IPAddress | None]:
    invalid = BadURL(_("The site name in that address is not valid."), url=url)
    host = text.lower()
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii").lower()
        except (idna.IDNAError, UnicodeError, ValueError) as exc:
            raise invalid from exc
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        if len(labels) == 4 and all(_CANONICAL_OCTET.fullmatch(label) and int(label) <= 255 for label in labels):
            ip = ipaddress.IPv4Address(".".join(labels))
            return str(ip), ip
        raise BadURL(
            _("Numeric host forms other than a.b.c.d (like 127.1 or 0x7f000001) are not accepted."),
            url=url,
        )
    if len(host) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise invalid
    return host, None


def check_url(url: str) -> str:
    """Check that ``url`` is an http(s) URL plnorg would accept; return it unchanged.

    Syntax only: no DNS lookup and no address policy, so forms can use it for
    links that are stored but never fetched. Raises :class:`BadURL` (or
    :class:`UnsupportedScheme`) with a message for the member.
    """
    _parse_url(url)
    return url


def normalize_url(url: str) -> str:
    """The canonical spelling of ``url``, used to recognise the same feed twice.

    Scheme and host lower-cased (host in its IDNA ASCII form), default port
    dropped, fragment dropped, empty path turned into "/". Path and query are
    kept as they are: servers may treat them case-sensitively.
    """
    return _parse_url(url).url


# --------------------------------------------------------------------------
# Address policy
# --------------------------------------------------------------------------

_PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(cidr) for cidr in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fec0::/10")
)
_SHARED_NETWORK = ipaddress.IPv4Network("100.64.0.0/10")
_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")
_BROADCAST = ipaddress.IPv4Address("255.255.255.255")
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
# Local-use NAT64 (RFC 8215): operators choose where the IPv4 address sits
# inside it, so the whole block is treated as private.
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")


def _in_network(ip: IPAddress, network: IPNetwork) -> bool:
    # ipaddress does not compare versions in `in`: ::1 would be "in" 0.0.0.0/8.
    return ip.version == network.version and ip in network


def _forbidden_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` must not be contacted (a key of _FORBIDDEN_MESSAGES), or None."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d is that IPv4 host
            return _forbidden_reason(ip.ipv4_mapped)
        if ip in _NAT64_WELL_KNOWN:  # 64:ff9b::a.b.c.d reaches a.b.c.d via NAT64
            return _forbidden_reason(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip in _NAT64_LOCAL:
            return "private"
        embedded = []
        if ip.sixtofour is not None:  # 2002:AABB:CCDD::/48
            embedded.append(ip.sixtofour)
        if ip.teredo is not None:  # 2001::/32, (server, client)
            embedded.extend(reversed(ip.teredo))
        for ipv4 in embedded:
            reason = _forbidden_reason(ipv4)
            if reason is not None:
                return reason
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if isinstance(ip, ipaddress.IPv4Address):
        if ip == _BROADCAST:
            return "broadcast"
        if ip in _THIS_NETWORK:
            return "this-network"
        if ip in _SHARED_NETWORK:
            return "shared"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if any(_in_network(ip, network) for network in _PRIVATE_NETWORKS):
        return "private"
    if ip.is_reserved:
        return "reserved"
    if not ip.is_global:  # documentation, benchmarking, IETF ranges ...
        return "not-public"
    return None


def _setting(name: str, default):
    """A Django setting, or ``default`` when Django settings are not configured."""
    try:
        return getattr(settings, name, default)
    except ImproperlyConfigured:
        return default


def _allowed_networks(allowed_networks: Iterable[str | IPNetwork] | None) -> tuple[IPNetwork, ...]:
    if allowed_networks is None:
        allowed_networks = _setting("FETCH_ALLOWED_PRIVATE_NETWORKS", None) or ()
    if isinstance(allowed_networks, str):
        raise ValueError("allowed_networks must be a list of CIDR strings, not one string.")
    networks = []
    for network in allowed_networks:
        try:
            networks.append(ipaddress.ip_network(network, strict=False))
        except ValueError as exc:
            raise ValueError(f"Not a network in CIDR notation: {network!r}") from exc
    return tuple(networks)


def _is_allowed(ip: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    candidates = [ip]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        candidates.append(ip.ipv4_mapped)
    return any(_in_network(candidate, net) for candidate in candidates for net in networks)


def is_forbidden_address(
    ip: str | IPAddress,
    allowed_networks: Iterable[str | IPNetwork] | None = None,
) -> bool:
    """True if plnorg must not connect to ``ip``.

    ``allowed_networks`` (CIDR strings) exempts addresses; when None the
    ``FETCH_ALLOWED_PRIVATE_NETWORKS`` setting is used.
    """
    address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    if _forbidden_reason(address) is None:
        return False
    return not _is_allowed(address, _allowed_networks(allowed_networks))


# --------------------------------------------------------------------------
# Name resolution
# --------------------------------------------------------------------------


def _resolve(host: str, port: int, deadline: float) -> list[IPAddress]:
    """All addresses ``host`` resolves to, looked up once, within the deadline.

    getaddrinfo() has no timeout of its own, so it runs in a short-lived
    daemon thread that is abandoned if the deadline passes. (A fresh thread
    rather than a pool: pools do not survive Celery's fork.)
    """
    infos: list[tuple] = []
    errors: list[Exception] = []

    def lookup() -> None:
        try:
            infos.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except (OSError, UnicodeError) as exc:
            errors.append(exc)

    thread = threading.Thread(target=lookup, name="plnorg-fetch-dns", daemon=True)
    thread.start()
    thread.join(max(0.0, deadline - time.monotonic()))
    if thread.is_alive():
        raise FetchTimeout()
    if errors:
        raise HostNotFound() from errors[0]
    addresses: list[IPAddress] = []
    for family, _type, _proto, _name, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        try:
            ip = ipaddress.ip_address(sockaddr[0])
        except ValueError:
            continue
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise HostNotFound()
    return addresses


def _checked_addresses(target: _Target, networks: tuple[IPNetwork, ...], deadline: float) -> list[IPAddress]:
    """The addresses to connect to for ``target``; all of them passed the policy."""
    addresses = [target.ip] if target.ip is not None else _resolve(target.host, target.port, deadline)
    for ip in addresses:
        reason = _forbidden_reason(ip)
        if reason is not None and not _is_allowed(ip, networks):
            raise ForbiddenAddress(reason, address=str(ip), url=target.url)
    return addresses


def _host_key(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host.lower()


# --------------------------------------------------------------------------
# Network plumbing: httpcore backend and httpx transport
# --------------------------------------------------------------------------


def _remaining(deadline: float, timeout: float | None, error: type[Exception]) -> float:
    """The socket timeout to use: the operation's own, cut down to the deadline."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise error("the fetch deadline has passed")
    return remaining if timeout is None else min(timeout, remaining)


class _TLSFailure(httpcore.ConnectError):
    """A failed TLS handshake, keeping the ssl error.

    httpcore's pool re-raises with ``from None``, which clears ``__cause__``,
    so the ssl error travels as an attribute.
    """

    def __init__(self, ssl_error: ssl.SSLError) -> None:
        super().__init__(str(ssl_error))
        self.ssl_error = ssl_error


class _PinnedStream(httpcore.NetworkStream):
    """A socket whose every operation ends by the fetch deadline.

    Per-read timeouts alone would let a server sending one byte a second keep
    a worker forever; here each read gets at most the time left.
    """

    def __init__(self, sock: socket.socket, backend: _PinnedBackend) -> None:
        self._sock = sock
        # The deadline is the backend's current one: a connection a session
        # keeps serves later fetches, each with its own deadline.
        self._backend = backend

    @property
    def _deadline(self) -> float:
        return self._backend.deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._sock.settimeout(_remaining(self._deadline, timeout, httpcore.ReadTimeout))
        try:
            return self._sock.recv(max_bytes)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpcore.ReadError(str(exc)) from exc

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        while buffer:
            self._sock.settimeout(_remaining(self._deadline, timeout, httpcore.WriteTimeout))
            try:
                sent = self._sock.send(buffer)
            except TimeoutError as exc:
                raise httpcore.WriteTimeout(str(exc)) from exc
            except OSError as exc:
                raise httpcore.WriteError(str(exc)) from exc
            buffer = buffer[sent:]

    def close(self) -> None:
        self._sock.close()

    @property
    def closed(self) -> bool:
        return self._sock.fileno() == -1

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        # server_hostname is the real host name from the URL: SNI and the
        # certificate check use it although the socket goes to a pinned IP.
        # The socket timeout bounds the whole handshake (CPython applies it
        # as a deadline across the handshake's reads and writes).
        self._sock.settimeout(_remaining(self._deadline, timeout, httpcore.ConnectTimeout))
        try:
            tls_sock = ssl_context.wrap_socket(self._sock, server_hostname=server_hostname)
        except TimeoutError as exc:
            self._sock.close()
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except ssl.SSLError as exc:
            self._sock.close()
            raise _TLSFailure(exc) from exc
        except OSError as exc:
            self._sock.close()
            raise httpcore.ConnectError(str(exc)) from exc
        tls_stream = _PinnedStream(tls_sock, self._backend)
        self._backend.wrapped(self, tls_stream)
        return tls_stream

    def get_extra_info(self, info: str) -> object:
        if info == "ssl_object":
            return self._sock if isinstance(self._sock, ssl.SSLSocket) else None
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "socket":
            return self._sock
        if info == "is_readable":
            if self._sock.fileno() == -1:
                return True
            readable, _writable, _failed = select.select([self._sock], [], [], 0)
            return bool(readable)
        return None


class _PinnedBackend(httpcore.NetworkBackend):
    """Opens TCP connections only to addresses the fetcher has checked.

    httpcore asks for (host, port); instead of resolving the host again this
    backend looks up the addresses pinned for it by :func:`fetch`, and refuses
    any host that was not pinned. It remembers the peer address of every
    connection it opened, so that a connection kept for a later fetch is
    dropped when the host no longer resolves to that address.
    """

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.opened = 0  # connections opened so far
        self._pins: dict[tuple[str, int], list[IPAddress]] = {}
        self._peers: list[tuple[_PinnedStream, tuple[str, int], IPAddress]] = []

    def start(self, deadline: float) -> None:
        """Begin a new fetch: its own deadline, and no address checked yet."""
        self.deadline = deadline
        self._pins.clear()

    def pin(self, host: str, port: int, addresses: list[IPAddress]) -> None:
        """Allow connections to ``addresses`` for (host, port), and close any
        kept connection to that host whose peer is not among them: httpcore
        then sees it closed and opens a new one, to a checked address."""
        key = (_host_key(host), port)
        self._pins[key] = addresses
        kept = []
        for stream, peer_key, ip in self._peers:
            if stream.closed:
                continue
            if peer_key == key and ip not in addresses:
                stream.close()
                continue
            kept.append((stream, peer_key, ip))
        self._peers = kept

    def wrapped(self, stream: _PinnedStream, tls_stream: _PinnedStream) -> None:
        """``stream`` now runs TLS as ``tls_stream``: watch that one's peer."""
        self._peers = [(tls_stream if s is stream else s, key, ip) for s, key, ip in self._peers]

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[tuple] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self._pins.get((_host_key(host), port))
        if addresses is None:
            raise FetchError(_("plnorg refused to connect to an address it had not checked."))
        last_error: OSError | None = None
        for ip in addresses:
            connect_timeout = _remaining(self.deadline, timeout, httpcore.ConnectTimeout)
            family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(connect_timeout)
                # A numeric address: connect() does no name lookup.
                sock.connect((str(ip), port))
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError as exc:
                sock.close()
                last_error = exc
                continue
            self.opened += 1
            stream = _PinnedStream(sock, self)
            self._peers.append((stream, (_host_key(host), port), ip))
            return stream
        if isinstance(last_error, TimeoutError):
            raise httpcore.ConnectTimeout(str(last_error)) from last_error
        raise httpcore.ConnectError(str(last_error)) from last_error

    def connect_unix_socket(self, *args, **kwargs) -> httpcore.NetworkStream:
        raise FetchError(_("plnorg does not fetch through local sockets."))


@contextlib.contextmanager
def _translated_errors() -> Iterator[None]:
    """Turn httpcore's exceptions into plnorg's typed, readable errors."""
    try:
        yield
    except httpcore.TimeoutException as exc:
        raise FetchTimeout() from exc
    except _TLSFailure as exc:
        if isinstance(exc.ssl_error, ssl.SSLCertVerificationError):
            raise TLSError(_CERTIFICATE_MESSAGE) from exc.ssl_error
        raise TLSError() from exc.ssl_error
    except httpcore.ConnectError as exc:
        raise ConnectionFailed() from exc
    except httpcore.NetworkError as exc:
        raise ConnectionFailed(_("The connection to the site broke off.")) from exc
    except httpcore.ProtocolError as exc:
        raise InvalidResponse() from exc
    except httpcore.UnsupportedProtocol as exc:
        raise UnsupportedScheme() from exc


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _translated_errors():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class _PinnedTransport(httpx.BaseTransport):
    """An httpx transport over an httpcore pool that uses :class:`_PinnedBackend`.

    Written against httpcore's public API rather than patching
    ``httpx.HTTPTransport``, whose pool is private. HTTP/1.1 only, no proxies,
    no retries.
    """

    def __init__(
        self, backend: _PinnedBackend, ssl_context: ssl.SSLContext, *, keepalive_seconds: float | None = None
    ) -> None:
        self._pool = httpcore.ConnectionPool(
            keepalive_expiry=keepalive_seconds,
            ssl_context=ssl_context,
            max_connections=4,
            max_keepalive_connections=4,
            http1=True,
            http2=False,
            retries=0,
            network_backend=backend,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _translated_errors():
            core_response = self._pool.handle_request(core_request)
        return httpx.Response(
            status_code=core_response.status,
            headers=core_response.headers,
            stream=_ResponseStream(core_response.stream),  # type: ignore[arg-type]
            extensions=core_response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certifi.where())


@functools.cache
def _bundle_ssl_context(path: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=path)


def _ssl_context(verify: ssl.SSLContext | str | os.PathLike | bool | None) -> ssl.SSLContext:
    """The TLS settings to use. Certificate checks can be changed, never turned off."""
    if verify is None:
        bundle = _setting("FETCH_CA_BUNDLE", None)
        return _bundle_ssl_context(os.fspath(bundle)) if bundle else _default_ssl_context()
    if verify is True:
        return _default_ssl_context()
    if isinstance(verify, ssl.SSLContext):
        if verify.verify_mode != ssl.CERT_REQUIRED or not verify.check_hostname:
            raise ValueError("The SSL context must check certificates and host names.")
        return verify
    if isinstance(verify, (str, os.PathLike)):
        return _bundle_ssl_context(os.fspath(verify))
    raise ValueError(
        "verify must be an ssl.SSLContext or the path to a CA bundle; certificate checks cannot be turned off."
    )


# --------------------------------------------------------------------------
# Response bodies: size cap counted after decompression
# --------------------------------------------------------------------------


class _Decoder(Protocol):
    def decode(self, data: bytes) -> Iterator[bytes]: ...
    def flush(self) -> Iterator[bytes]: ...


class _ZlibDecoder:
    """gzip or zlib/raw deflate, producing output in bounded pieces."""

    def __init__(self, wbits: int) -> None:
        self._obj = zlib.decompressobj(wbits)

    def decode(self, data: bytes) -> Iterator[bytes]:
        while not self._obj.eof:
            try:
                out = self._obj.decompress(data, _PIECE_BYTES)
            except zlib.error as exc:
                raise InvalidResponse(_DAMAGED_COMPRESSION_MESSAGE) from exc
            if out:
                yield out
            data = self._obj.unconsumed_tail
            # A full piece may mean more output is pending inside zlib: go on.
            if not data and len(out) < _PIECE_BYTES:
                return

    def flush(self) -> Iterator[bytes]:
        if not self._obj.eof:
            out = self._obj.flush()
            if out:
                yield out


class _DeflateDecoder:
    """HTTP "deflate" is meant to be zlib-wrapped, but some servers send raw deflate."""

    def __init__(self) -> None:
        self._inner: _ZlibDecoder | None = None
        self._head = b""

    def decode(self, data: bytes) -> Iterator[bytes]:
        if self._inner is None:
            self._head += data
            if len(self._head) < 2:
                return
            first, second = self._head[0], self._head[1]
            zlib_wrapped = first & 0x0F == 8 and ((first << 8) | second) % 31 == 0
            self._inner = _ZlibDecoder(zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS)
            data, self._head = self._head, b""
        yield from self._inner.decode(data)

    def flush(self) -> Iterator[bytes]:
        if self._inner is None:
            if not self._head:
                return
            self._inner = _ZlibDecoder(-zlib.MAX_WBITS)
            yield from self._inner.decode(self._head)
        yield from self._inner.flush()


class _BrotliDecoder:
    def __init__(self) -> None:
        self._obj = brotli.Decompressor()

    def decode(self, data: bytes) -> Iterator[bytes]:
        try:
            out = self._obj.process(data, output_buffer_limit=_PIECE_BYTES)
            if out:
                yield out
            while not self._obj.can_accept_more_data():
                out = self._obj.process(b"", output_buffer_limit=_PIECE_BYTES)
                if not out:
                    return
                yield out
        except brotli.error as exc:
            raise InvalidResponse(_DAMAGED_COMPRESSION_MESSAGE) from exc

    def flush(self) -> Iterator[bytes]:
        return iter(())


def _decoders(content_encoding: str) -> list[_Decoder]:
    """Decoders in the order to apply them (the reverse of the header's order).

    Unknown codings are skipped, as httpx does: servers send things like
    "Content-Encoding: utf-8" and the body is then plain.
    """
    decoders: list[_Decoder] = []
    for coding in content_encoding.lower().split(","):
        coding = coding.strip()
        if coding in ("gzip", "x-gzip"):
            decoders.append(_ZlibDecoder(16 + zlib.MAX_WBITS))
        elif coding == "deflate":
            decoders.append(_DeflateDecoder())
        elif coding == "br" and brotli is not None:
            decoders.append(_BrotliDecoder())
    decoders.reverse()
    return decoders


def _through(decoders: list[_Decoder], data: bytes) -> Iterator[bytes]:
    if not decoders:
        yield data
        return
    for piece in decoders[0].decode(data):
        yield from _through(decoders[1:], piece)


def _flushed(decoders: list[_Decoder]) -> Iterator[bytes]:
    for index, decoder in enumerate(decoders):
        for piece in decoder.flush():
            yield from _through(decoders[index + 1 :], piece)


def _read_body(response: httpx.Response, *, max_bytes: int, deadline: float, url: str) -> bytes:
    """Read and decode the body, stopping as soon as it passes ``max_bytes``."""
    decoders = _decoders(response.headers.get("content-encoding", ""))
    if not decoders:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise ResponseTooLarge(max_bytes, url=url)
    body = bytearray()
    raw_bytes = 0

    def add(pieces: Iterator[bytes]) -> None:
        for piece in pieces:
            if len(body) + len(piece) > max_bytes:
                raise ResponseTooLarge(max_bytes, url=url)
            body.extend(piece)

    for chunk in response.iter_raw():
        raw_bytes += len(chunk)
        if raw_bytes > max_bytes:
            raise ResponseTooLarge(max_bytes, url=url)
        add(_through(decoders, chunk))
        if time.monotonic() > deadline:
            raise FetchTimeout(url=url)
    add(_flushed(decoders))
    return bytes(body)


# --------------------------------------------------------------------------
# The public entry point
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchResult:
    """What came back. Any HTTP status is reported here, not raised."""

    url: str  # the URL of the last request (after redirects)
    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined by ", "
    content: bytes  # decompressed body
    redirects: list[tuple[int, str]] = field(default_factory=list)  # (status, Location)
    elapsed_seconds: float = 0.0
    requested_url: str = ""  # the URL fetch() was called with, normalized

    @property
    def size_bytes(self) -> int:
        return len(self.content)

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def content_type(self) -> str:
        """The media type without parameters, e.g. "application/rss+xml"."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def permanent_url(self) -> str:
        """Where the resource lives for good: follows the leading 301/308 redirects.

        A feed that answers 301 should be stored under its new URL; one that
        answers 302 should not. Equals ``requested_url`` when the first hop
        was not a permanent redirect.
        """
        url = self.requested_url or self.url
        for status, location in self.redirects:
            if status not in _PERMANENT_REDIRECT_STATUSES:
                break
            url = location
        return url


def _request_headers(accept: str, etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {
        "User-Agent": _setting("FETCH_USER_AGENT", DEFAULT_USER_AGENT) or DEFAULT_USER_AGENT,
        "Accept": accept,
        "Accept-Encoding": ACCEPT_ENCODING,
    }
    # Validators come from earlier responses; a damaged stored value is
    # dropped rather than allowed to break every future fetch of the feed.
    if etag and not _has_unsafe_characters(etag.strip(" ")):
        headers["If-None-Match"] = etag
    if last_modified and not _has_unsafe_characters(last_modified.replace(" ", "")):
        headers["If-Modified-Since"] = last_modified
    return headers


def _after_redirect(error: FetchError) -> FetchError:
    """Say that the refused address came from a redirect, not from the member."""
    # The refusal's own sentence continues this one, so it loses its capital.
    reason = error.message[0].lower() + error.message[1:]
    error.message = _("The site redirected to another address, and %(reason)s") % {"reason": reason}
    error.args = (error.message,)
    return error


_TIMEOUT = httpx.Timeout(
    connect=CONNECT_TIMEOUT_SECONDS,
    read=READ_TIMEOUT_SECONDS,
    write=READ_TIMEOUT_SECONDS,
    pool=CONNECT_TIMEOUT_SECONDS,
)
# How long a session keeps an idle connection. Servers close theirs after
# 5 to 60 s; one they closed already is noticed and replaced anyway.
SESSION_KEEPALIVE_SECONDS = 30.0


class FetchSession:
    """Connections kept open between fetches, for a batch that fetches many
    feeds of the same hosts: ``fetch(url, session=session)``.

    At most one connection per (scheme, host, port) stays open; the TLS
    server name is the host. The rules do not loosen: every fetch resolves
    and checks its host again, a kept connection is used only while its peer
    is among the addresses just checked (otherwise it is closed and a new,
    checked one opened), and a redirect to another host opens a connection of
    its own. A kept connection the server had closed meanwhile costs one
    retry of the GET on a new connection; a POST is never retried.

    Fetches through one session run one at a time (a lock), so give each
    thread its own session for concurrency. ``verify`` is as for
    :func:`fetch`, for every fetch of the session.
    """

    def __init__(self, *, verify: ssl.SSLContext | str | os.PathLike | bool | None = None) -> None:
        self._ssl_context = _ssl_context(verify)
        self._backend = _PinnedBackend(time.monotonic())
        self._client = httpx.Client(
            transport=_PinnedTransport(self._backend, self._ssl_context, keepalive_seconds=SESSION_KEEPALIVE_SECONDS),
            timeout=_TIMEOUT,
            follow_redirects=False,  # each hop is checked by fetch()
            trust_env=False,  # no proxies or .netrc credentials from the environment
        )
        self._lock = threading.Lock()

    @property
    def connections_opened(self) -> int:
        return self._backend.opened

    def close(self) -> None:
        with self._lock:
            self._client.close()

    def __enter__(self) -> FetchSession:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def fetch(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
    deadline_at: float | None = None,
    accept: str = DEFAULT_ACCEPT,
    allowed_networks: Iterable[str | IPNetwork] | None = None,
    verify: ssl.SSLContext | str | os.PathLike | bool | None = None,
    form: dict[str, str] | None = None,
    session: FetchSession | None = None,
) -> FetchResult:
    """GET ``url`` safely and return the final response (or POST ``form`` to it).

    - ``etag`` / ``last_modified``: validators from the previous fetch, sent
      as If-None-Match / If-Modified-Since; a 304 comes back as status 304.
    - ``max_bytes``: cap on the decompressed body (:class:`ResponseTooLarge`).
    - ``deadline_seconds``: wall-clock limit for everything, DNS and redirects
      included (:class:`FetchTimeout`).
    - ``deadline_at``: a ``time.monotonic()`` instant this fetch must also end
      by, for callers that share one budget between several fetches (feed
      discovery in a web request): the fetch then ends at whichever comes
      first, and raises :class:`FetchTimeout` at once if it has passed.
    - ``allowed_networks``: CIDR strings allowed although not public; None
      means the ``FETCH_ALLOWED_PRIVATE_NETWORKS`` setting.
    - ``verify``: an ``ssl.SSLContext`` or CA bundle path (tests use a private
      CA); None means certifi, or the ``FETCH_CA_BUNDLE`` setting.
    - ``form``: POST these fields (``application/x-www-form-urlencoded``,
      UTF-8) instead of a GET, as a WebSub hub expects. Only 307 and 308
      redirects are followed then (they re-send the same POST, every hop
      checked); any other redirect is returned as the response.
    - ``session``: a :class:`FetchSession` whose kept connections to use
      (its ``verify`` applies); None fetches on connections of its own.

    Raises a :class:`FetchError` subclass for refusals and network failures.
    """
    if max_bytes <= 0 or deadline_seconds <= 0:
        raise ValueError("max_bytes and deadline_seconds must be positive.")
    if session is not None and verify is not None:
        raise ValueError("A session has its own verify: pass it to FetchSession().")
    started = time.monotonic()
    deadline = started + deadline_seconds
    if deadline_at is not None:
        deadline = min(deadline, deadline_at)
    networks = _allowed_networks(allowed_networks)
    if session is None:
        with FetchSession(verify=verify) as one_shot:
            return _fetch(one_shot, url, started, deadline, networks, accept, etag, last_modified, max_bytes, form)
    with session._lock:
        return _fetch(session, url, started, deadline, networks, accept, etag, last_modified, max_bytes, form)


def _built_request(client: httpx.Client, method: str, target: _Target, *, content, headers) -> httpx.Request:
    """The request for ``target``, refused as a BadURL if httpx reads its
    host or port differently from our parse (rather than guess which is
    right, since only ours was checked)."""
    try:
        request = client.build_request(method, target.url, content=content, headers=headers)
    except httpx.InvalidURL as exc:
        raise BadURL(url=target.url) from exc
    if (
        _host_key(request.url.raw_host.decode("ascii")) != _host_key(target.host)
        or (request.url.port or _DEFAULT_PORTS[target.scheme]) != target.port
    ):
        raise BadURL(url=target.url)
    return request


def _fetch(
    session: FetchSession,
    url: str,
    started: float,
    deadline: float,
    networks: tuple[IPNetwork, ...],
    accept: str,
    etag: str | None,
    last_modified: str | None,
    max_bytes: int,
    form: dict[str, str] | None,
) -> FetchResult:
    target = _parse_url(url)
    if deadline <= started:
        raise FetchTimeout(url=url)
    requested_url = target.url
    backend, client = session._backend, session._client
    backend.start(deadline)
    headers = _request_headers(accept, etag, last_modified)
    method, body = ("GET", None) if form is None else ("POST", urllib.parse.urlencode(form).encode("utf-8"))
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    follows = _REDIRECT_STATUSES if form is None else _METHOD_KEEPING_REDIRECT_STATUSES
    redirects: list[tuple[int, str]] = []
    while True:
        try:
            addresses = _checked_addresses(target, networks, deadline)
        except (ForbiddenAddress, HostNotFound) as exc:
            if redirects:
                _after_redirect(exc)
            raise
        backend.pin(target.host, target.port, addresses)
        request = _built_request(client, method, target, content=body, headers=headers)
        opened = backend.opened
        try:
            response = client.send(request, stream=True)
        except (ConnectionFailed, InvalidResponse):
            if backend.opened != opened or method != "GET":
                raise
            # It went out on a kept connection the server had closed
            # (its keep-alive timeout): once more, on a new connection.
            response = client.send(request, stream=True)
        try:
            location = response.headers.get("location")
            if response.status_code in follows and location:
                if len(redirects) >= MAX_REDIRECTS:
                    raise TooManyRedirects(url=url)
                next_url = urllib.parse.urljoin(target.url, location)
                redirects.append((response.status_code, next_url))
                try:
                    target = _parse_url(next_url)
                except BadURL as exc:
                    raise _after_redirect(exc) from None
                continue
            content = _read_body(response, max_bytes=max_bytes, deadline=deadline, url=url)
            return FetchResult(
                url=target.url,
                status=response.status_code,
                headers=dict(response.headers.items()),
                content=content,
                redirects=redirects,
                elapsed_seconds=time.monotonic() - started,
                requested_url=requested_url,
            )
        finally:
            response.close()


def check_address(
    url: str,
    *,
    allowed_networks: Iterable[str | IPNetwork] | None = None,
    deadline_seconds: float = 5.0,
) -> list[str]:
    """Check ``url`` as :func:`fetch` would before connecting, without
    connecting: the syntax, then every address its host resolves to.

    For addresses that are stored and contacted later (a chat channel's
    webhook): refused when saved, and refused again when used, since DNS may
    answer differently by then. Returns the checked addresses; raises
    :class:`BadURL`, :class:`ForbiddenAddress`, :class:`HostNotFound` or
    :class:`FetchTimeout` with a message for people.
    """
    target = _parse_url(url)
    networks = _allowed_networks(allowed_networks)
    return [str(ip) for ip in _checked_addresses(target, networks, time.monotonic() + deadline_seconds)]


def send(
    url: str,
    *,
    content: bytes,
    content_type: str,
    method: str = "POST",
    headers: dict[str, str] | None = None,
    max_bytes: int = 64 * 1024,
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
    allowed_networks: Iterable[str | IPNetwork] | None = None,
    verify: ssl.SSLContext | str | os.PathLike | bool | None = None,
) -> FetchResult:
    """Send ``content`` to ``url`` with ``method`` (a webhook's POST, a
    Matrix PUT) under the same rules as :func:`fetch`: public addresses only,
    checked after DNS and pinned, one deadline, a capped reply.

    Redirects are not followed: a webhook that redirects is misconfigured,
    and sending a body (with its secrets) on to another address is how they
    leak. A 3xx comes back as its status, like any other.
    """
    if method not in ("POST", "PUT"):
        raise ValueError("send() is for POST and PUT; fetch() does GET.")
    if max_bytes <= 0 or deadline_seconds <= 0:
        raise ValueError("max_bytes and deadline_seconds must be positive.")
    started = time.monotonic()
    deadline = started + deadline_seconds
    networks = _allowed_networks(allowed_networks)
    ssl_context = _ssl_context(verify)
    target = _parse_url(url)
    backend = _PinnedBackend(deadline)
    backend.pin(target.host, target.port, _checked_addresses(target, networks, deadline))
    request_headers = {
        "User-Agent": _setting("FETCH_USER_AGENT", DEFAULT_USER_AGENT) or DEFAULT_USER_AGENT,
        "Accept": "application/json, */*;q=0.5",
        "Accept-Encoding": ACCEPT_ENCODING,
        "Content-Type": content_type,
        **(headers or {}),
    }
    with httpx.Client(
        transport=_PinnedTransport(backend, ssl_context), timeout=_TIMEOUT, follow_redirects=False, trust_env=False
    ) as client:
        request = _built_request(client, method, target, content=content, headers=request_headers)
        response = client.send(request, stream=True)
        try:
            try:
                body = _read_body(response, max_bytes=max_bytes, deadline=deadline, url=url)
            except ResponseTooLarge:
                # The status already says whether it arrived; a long reply
                # must not turn a delivered message into a "failed" one.
                body = b""
            return FetchResult(
                url=target.url,
                status=response.status_code,
                headers=dict(response.headers.items()),
                content=body,
                elapsed_seconds=time.monotonic() - started,
                requested_url=target.url,
            )
        finally:
            response.close()
