"""Platform rules: handle or profile link in, exact feed URL (or a clear refusal) out."""

from __future__ import annotations

import pytest

from feeds.platforms import (
    PLATFORMS,
    PlatformInputError,
    PlatformNeedsDiscovery,
    choices,
    detect_platform,
    get_platform,
)


def feed_url(slug: str, value: str) -> str:
    return get_platform(slug).feed_url(value)


def refusal(slug: str, value: str) -> str:
    with pytest.raises(PlatformInputError) as caught:
        get_platform(slug).feed_url(value)
    return str(caught.value)


def discovery_page(slug: str, value: str) -> str:
    with pytest.raises(PlatformNeedsDiscovery) as caught:
        get_platform(slug).feed_url(value)
    return caught.value.url


# --------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------


def test_platforms_are_ordered_and_complete():
    assert [platform.slug for platform in PLATFORMS] == [
        "mastodon",
        "bluesky",
        "youtube",
        "github",
        "substack",
        "medium",
        "devto",
        "blog",
        "podcast",
        "newsletter",
        "website",
        "linkedin",
        "x",
    ]


def test_choices_for_forms():
    assert choices() == [
        ("mastodon", "Mastodon"),
        ("bluesky", "Bluesky"),
        ("youtube", "YouTube"),
        ("github", "GitHub"),
        ("substack", "Substack"),
        ("medium", "Medium"),
        ("devto", "DEV"),
        ("blog", "Blog"),
        ("podcast", "Podcast"),
        ("newsletter", "Newsletter"),
        ("website", "Any website or feed"),
        ("linkedin", "LinkedIn"),
        ("x", "X (Twitter)"),
    ]


def test_get_platform():
    mastodon = get_platform("mastodon")

    assert (mastodon.slug, mastodon.label, mastodon.example, mastodon.has_feed) == (
        "mastodon",
        "Mastodon",
        "@ana@mastodon.social",
        True,
    )
    with pytest.raises(KeyError, match="Unknown platform: 'myspace'"):
        get_platform("myspace")


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda platform: platform.slug)
def test_every_example_is_accepted(platform):
    try:
        url = platform.feed_url(platform.example) if platform.has_feed else platform.profile_url(platform.example)
    except PlatformNeedsDiscovery as signal:
        url = signal.url
    assert url.startswith("https://")


@pytest.mark.parametrize("value", ["", "   ", "\t\n"])
def test_empty_input_is_refused_with_the_example(value):
    assert refusal("mastodon", value) == "Enter a Mastodon handle or link, for example @ana@mastodon.social."
    assert refusal("github", value) == "Enter a GitHub handle or link, for example octocat."


# --------------------------------------------------------------------------
# Mastodon
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("@ana@mastodon.social", "https://mastodon.social/@ana.rss"),
        ("ana@mastodon.social", "https://mastodon.social/@ana.rss"),
        ("  @Ana@Mastodon.Social  ", "https://mastodon.social/@ana.rss"),
        ("@ana_b.c-d@hachyderm.io", "https://hachyderm.io/@ana_b.c-d.rss"),
        ("https://mastodon.social/@ana", "https://mastodon.social/@ana.rss"),
        ("https://mastodon.social/@ana/", "https://mastodon.social/@ana.rss"),
        ("HTTPS://Mastodon.Social/@Ana", "https://mastodon.social/@ana.rss"),
        ("mastodon.social/@ana", "https://mastodon.social/@ana.rss"),
        ("https://mastodon.social/@ana/111222333444555666", "https://mastodon.social/@ana.rss"),
        ("https://mastodon.social/users/ana", "https://mastodon.social/@ana.rss"),
        ("https://mastodon.social/web/@ana", "https://mastodon.social/@ana.rss"),
        ("https://mastodon.social/@ana@fosstodon.org", "https://fosstodon.org/@ana.rss"),
        ("https://social.example.org:8443/@ana", "https://social.example.org:8443/@ana.rss"),
        ("@ana@xn--mstdn-gra.example", "https://xn--mstdn-gra.example/@ana.rss"),
        ("@ana@mästdn.example", "https://xn--mstdn-gra.example/@ana.rss"),
    ],
)
def test_mastodon_feed_url(value, expected):
    assert feed_url("mastodon", value) == expected


def test_mastodon_profile_url():
    assert get_platform("mastodon").profile_url("ana@Mastodon.Social") == "https://mastodon.social/@ana"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("@ana", "Add the server: @ana@server (for example @ana@mastodon.social)."),
        ("ana", "Add the server: @ana@server (for example @ana@mastodon.social)."),
        ("@ana@", "Add the server: @ana@server (for example @ana@mastodon.social)."),
        ("@ana@localhost", '"localhost" is not a server name. A server name looks like mastodon.social.'),
        ("@ana@mastodon", '"mastodon" is not a server name. A server name looks like mastodon.social.'),
        ("@ana@10.0.0.1", '"10.0.0.1" is not a server name. A server name looks like mastodon.social.'),
        (
            "@ana@mastodon.social@evil.example",
            '"mastodon.social@evil.example" is not a server name. A server name looks like mastodon.social.',
        ),
        (
            "@ana@mastodon_social.org",
            '"mastodon_social.org" is not a server name. A server name looks like mastodon.social.',
        ),
        (
            "@a na@mastodon.social",
            "A Mastodon user name has only letters, digits and underscores (dots and dashes inside), like @ana@mastodon.social.",
        ),
        (
            "@ana!@mastodon.social",
            "A Mastodon user name has only letters, digits and underscores (dots and dashes inside), like @ana@mastodon.social.",
        ),
        (
            "@@mastodon.social",
            "A Mastodon user name has only letters, digits and underscores (dots and dashes inside), like @ana@mastodon.social.",
        ),
        (
            "https://mastodon.social/",
            "That link does not point to a Mastodon account. Use the address of a profile, like https://mastodon.social/@ana.",
        ),
        (
            "https://mastodon.social/about",
            "That link does not point to a Mastodon account. Use the address of a profile, like https://mastodon.social/@ana.",
        ),
        (
            "https://user@mastodon.social/@ana",
            "Addresses that include a user name or password (user@...) are not accepted.",
        ),
        ("ftp://mastodon.social/@ana", "plnorg only fetches addresses that start with http:// or https://."),
    ],
)
def test_mastodon_refusals(value, message):
    assert refusal("mastodon", value) == message


# --------------------------------------------------------------------------
# Bluesky
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ana.bsky.social", "https://bsky.app/profile/ana.bsky.social/rss"),
        ("@ana.bsky.social", "https://bsky.app/profile/ana.bsky.social/rss"),
        (" Ana.BSKY.Social ", "https://bsky.app/profile/ana.bsky.social/rss"),
        ("ana.example.com", "https://bsky.app/profile/ana.example.com/rss"),
        ("@jay.bsky.team", "https://bsky.app/profile/jay.bsky.team/rss"),
        ("https://bsky.app/profile/ana.bsky.social", "https://bsky.app/profile/ana.bsky.social/rss"),
        ("https://bsky.app/profile/Ana.bsky.social/", "https://bsky.app/profile/ana.bsky.social/rss"),
        ("bsky.app/profile/ana.bsky.social", "https://bsky.app/profile/ana.bsky.social/rss"),
        ("https://bsky.app/profile/ana.bsky.social/post/3kabc", "https://bsky.app/profile/ana.bsky.social/rss"),
        (
            "did:plc:z72i7hdynmk6r22z27h6tvur",
            "https://bsky.app/profile/did:plc:z72i7hdynmk6r22z27h6tvur/rss",
        ),
        (
            "https://bsky.app/profile/did:plc:z72i7hdynmk6r22z27h6tvur",
            "https://bsky.app/profile/did:plc:z72i7hdynmk6r22z27h6tvur/rss",
        ),
    ],
)
def test_bluesky_feed_url(value, expected):
    assert feed_url("bluesky", value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ana", "Add the domain: ana.bsky.social (or your own domain)."),
        ("@ana", "Add the domain: ana.bsky.social (or your own domain)."),
        ("ana@bsky.social", "A Bluesky handle has no @ inside: write ana.bsky.social, not ana@bsky.social."),
        ("@ana@bsky.social", "A Bluesky handle has no @ inside: write ana.bsky.social, not ana@bsky.social."),
        (
            "-ana.bsky.social",
            "That is not a Bluesky handle. A handle looks like ana.bsky.social or a domain such as ana.example.com.",
        ),
        (
            "ana.bsky.123",
            "That is not a Bluesky handle. A handle looks like ana.bsky.social or a domain such as ana.example.com.",
        ),
        (
            "ana bsky.social",
            "That is not a Bluesky handle. A handle looks like ana.bsky.social or a domain such as ana.example.com.",
        ),
        (
            "https://bsky.app/",
            "That Bluesky link does not point to a profile. Use an address like https://bsky.app/profile/ana.bsky.social.",
        ),
        (
            "https://bsky.app/search?q=ana",
            "That Bluesky link does not point to a profile. Use an address like https://bsky.app/profile/ana.bsky.social.",
        ),
        (
            "https://twitter.com/profile/ana",
            "That is not a Bluesky link. Use an address like https://bsky.app/profile/ana.bsky.social.",
        ),
    ],
)
def test_bluesky_refusals(value, message):
    assert refusal("bluesky", value) == message


def test_bluesky_profile_url():
    assert get_platform("bluesky").profile_url("@Ana.bsky.social") == "https://bsky.app/profile/ana.bsky.social"


# --------------------------------------------------------------------------
# YouTube
# --------------------------------------------------------------------------

CHANNEL = "UCBR8-60-B28hp2BmDPdntcQ"
CHANNEL_FEED = f"https://www.youtube.com/feeds/videos.xml?channel_id={CHANNEL}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (CHANNEL, CHANNEL_FEED),
        (f"  {CHANNEL} ", CHANNEL_FEED),
        (f"https://www.youtube.com/channel/{CHANNEL}", CHANNEL_FEED),
        (f"https://www.youtube.com/channel/{CHANNEL}/", CHANNEL_FEED),
        (f"https://youtube.com/channel/{CHANNEL}/videos", CHANNEL_FEED),
        (f"https://m.youtube.com/channel/{CHANNEL}", CHANNEL_FEED),
        (f"HTTPS://WWW.YouTube.com/channel/{CHANNEL}", CHANNEL_FEED),
        (f"www.youtube.com/channel/{CHANNEL}", CHANNEL_FEED),
        (CHANNEL_FEED, CHANNEL_FEED),
        (
            "https://www.youtube.com/playlist?list=PLBCF2DAC6FFB574DE",
            "https://www.youtube.com/feeds/videos.xml?playlist_id=PLBCF2DAC6FFB574DE",
        ),
    ],
)
def test_youtube_feed_url(value, expected):
    assert feed_url("youtube", value) == expected


@pytest.mark.parametrize(
    ("value", "page"),
    [
        ("@GoogleDevelopers", "https://www.youtube.com/@GoogleDevelopers"),
        ("GoogleDevelopers", "https://www.youtube.com/@GoogleDevelopers"),
        ("https://www.youtube.com/@GoogleDevelopers", "https://www.youtube.com/@GoogleDevelopers"),
        ("https://youtube.com/@GoogleDevelopers/videos", "https://www.youtube.com/@GoogleDevelopers"),
        ("https://www.youtube.com/c/GoogleDevelopers", "https://www.youtube.com/c/GoogleDevelopers"),
        ("https://www.youtube.com/user/GoogleDevelopers", "https://www.youtube.com/user/GoogleDevelopers"),
    ],
)
def test_youtube_handle_needs_discovery(value, page):
    assert discovery_page("youtube", value) == page


VIDEO_LINK = (
    "That is a link to a single video. Paste the channel's address instead, "
    "like https://www.youtube.com/@name or https://www.youtube.com/channel/UC..."
)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", VIDEO_LINK),
        ("https://youtu.be/dQw4w9WgXcQ", VIDEO_LINK),
        ("https://www.youtube.com/shorts/abcdefghijk", VIDEO_LINK),
        (
            "https://www.youtube.com/channel/UCshort",
            "That channel id is not valid: it has 24 characters and starts with UC.",
        ),
        (
            "https://www.youtube.com/",
            "That YouTube link does not point to a channel. "
            "Use an address like https://www.youtube.com/@name or https://www.youtube.com/channel/UC...",
        ),
        (
            "https://vimeo.com/channels/staffpicks",
            "That is not a YouTube link. Use the channel's address, like https://www.youtube.com/@name.",
        ),
        (
            "my channel",
            "That is not a YouTube channel. Paste the channel's address, like https://www.youtube.com/@name, "
            "or its id (24 characters starting with UC).",
        ),
        ("https://www.youtube.com/@a", "That YouTube handle is not valid."),
    ],
)
def test_youtube_refusals(value, message):
    assert refusal("youtube", value) == message


def test_youtube_profile_url():
    youtube = get_platform("youtube")

    assert youtube.profile_url(CHANNEL_FEED) == f"https://www.youtube.com/channel/{CHANNEL}"
    assert youtube.profile_url("@GoogleDevelopers") == "https://www.youtube.com/@GoogleDevelopers"


# --------------------------------------------------------------------------
# GitHub, Substack, Medium, DEV
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("octocat", "https://github.com/octocat.atom"),
        ("@octocat", "https://github.com/octocat.atom"),
        (" Octo-Cat ", "https://github.com/octo-cat.atom"),
        ("https://github.com/octocat", "https://github.com/octocat.atom"),
        ("https://github.com/Octocat/", "https://github.com/octocat.atom"),
        ("github.com/octocat", "https://github.com/octocat.atom"),
        ("https://www.github.com/octocat?tab=repositories", "https://github.com/octocat.atom"),
        ("https://github.com/octocat.atom", "https://github.com/octocat.atom"),
    ],
)
def test_github_feed_url(value, expected):
    assert feed_url("github", value) == expected


GITHUB_NAME = "A GitHub user name has only letters, digits and single dashes, like octocat (at most 39 characters)."


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("octo--cat", GITHUB_NAME),
        ("-octocat", GITHUB_NAME),
        ("octo_cat", GITHUB_NAME),
        ("a" * 40, GITHUB_NAME),
        ("https://github.com/settings", GITHUB_NAME),
        ("https://github.com/", "Add the user name: https://github.com/octocat."),
        (
            "https://github.com/octocat/Hello-World",
            "That is a link to a repository or a page. Use the person's profile, like https://github.com/octocat.",
        ),
        ("https://gitlab.com/octocat", "That is not a GitHub link. Use an address like https://github.com/octocat."),
    ],
)
def test_github_refusals(value, message):
    assert refusal("github", value) == message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ana", "https://ana.substack.com/feed"),
        ("Ana ", "https://ana.substack.com/feed"),
        ("ana.substack.com", "https://ana.substack.com/feed"),
        ("https://ana.substack.com", "https://ana.substack.com/feed"),
        ("https://Ana.Substack.com/", "https://ana.substack.com/feed"),
        ("https://ana.substack.com/p/my-first-post", "https://ana.substack.com/feed"),
        ("https://www.ana.substack.com/", "https://ana.substack.com/feed"),
        ("https://ana.substack.com/feed", "https://ana.substack.com/feed"),
    ],
)
def test_substack_feed_url(value, expected):
    assert feed_url("substack", value) == expected


def test_substack_custom_domain_needs_discovery():
    assert discovery_page("substack", "https://newsletter.example.com/p/hello") == "https://newsletter.example.com/"
    assert discovery_page("substack", "newsletter.example.com") == "https://newsletter.example.com/"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("my newsletter", "A Substack name has only letters, digits and dashes, like name.substack.com."),
        ("ana_b", "A Substack name has only letters, digits and dashes, like name.substack.com."),
        (
            "https://substack.com/@ana",
            "That is a Substack page, not a newsletter. Paste the newsletter's address, like name.substack.com.",
        ),
        ("https://localhost/", "That is not a web address. It looks like name.substack.com."),
    ],
)
def test_substack_refusals(value, message):
    assert refusal("substack", value) == message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("@ana", "https://medium.com/feed/@ana"),
        ("ana", "https://medium.com/feed/@ana"),
        (" @Ana ", "https://medium.com/feed/@ana"),
        ("https://medium.com/@ana", "https://medium.com/feed/@ana"),
        ("https://medium.com/@ana/", "https://medium.com/feed/@ana"),
        ("https://medium.com/@ana/a-story-1a2b3c", "https://medium.com/feed/@ana"),
        ("https://medium.com/feed/@ana", "https://medium.com/feed/@ana"),
        ("https://ana.medium.com/", "https://medium.com/feed/@ana"),
        ("ana.medium.com", "https://medium.com/feed/@ana"),
        ("https://medium.com/towards-data-science", "https://medium.com/feed/towards-data-science"),
    ],
)
def test_medium_feed_url(value, expected):
    assert feed_url("medium", value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("@an a", "A Medium user name has only letters, digits, dots and underscores, like @ana."),
        ("https://medium.com/", "Add the user name: https://medium.com/@ana."),
        ("https://example.com/@ana", "That is not a Medium link. Use an address like https://medium.com/@ana."),
    ],
)
def test_medium_refusals(value, message):
    assert refusal("medium", value) == message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ana", "https://dev.to/feed/ana"),
        ("@Ana_B", "https://dev.to/feed/ana_b"),
        ("https://dev.to/ana", "https://dev.to/feed/ana"),
        ("https://dev.to/ana/", "https://dev.to/feed/ana"),
        ("https://dev.to/ana/my-post-4kd2", "https://dev.to/feed/ana"),
        ("dev.to/ana", "https://dev.to/feed/ana"),
        ("https://dev.to/feed/ana", "https://dev.to/feed/ana"),
    ],
)
def test_devto_feed_url(value, expected):
    assert feed_url("devto", value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ana-b", "A DEV user name has only letters, digits and underscores, like ana."),
        ("https://dev.to/", "Add the user name: https://dev.to/ana."),
        ("https://medium.com/ana", "That is not a DEV link. Use an address like https://dev.to/ana."),
    ],
)
def test_devto_refusals(value, message):
    assert refusal("devto", value) == message


# --------------------------------------------------------------------------
# Sites found by discovery: blog, podcast, newsletter, any website
# --------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["blog", "podcast", "newsletter", "website"])
@pytest.mark.parametrize(
    ("value", "page"),
    [
        ("https://example.com/blog", "https://example.com/blog"),
        ("example.com/blog/", "https://example.com/blog/"),
        ("  HTTP://Example.COM  ", "http://example.com/"),
        ("https://example.com:443/feed.xml#latest", "https://example.com/feed.xml"),
        ("https://podcasts.example.org/show.rss?format=mp3", "https://podcasts.example.org/show.rss?format=mp3"),
    ],
)
def test_site_platforms_need_discovery(slug, value, page):
    platform = get_platform(slug)

    assert platform.uses_discovery is True
    assert discovery_page(slug, value) == page
    assert platform.profile_url(value) == page


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("localhost", "That is not a web address. It looks like https://example.com/blog."),
        ("my blog", "That address contains spaces or invisible control characters."),
        ("http://127.0.0.1/", "That is not a web address. It looks like https://example.com/blog."),
        ("http://2130706433/", "Numeric host forms other than a.b.c.d (like 127.1 or 0x7f000001) are not accepted."),
        ("ftp://example.com/feed", "plnorg only fetches addresses that start with http:// or https://."),
        ("https://user:pw@example.com/", "Addresses that include a user name or password (user@...) are not accepted."),
    ],
)
def test_site_refusals(value, message):
    assert refusal("website", value) == message


# --------------------------------------------------------------------------
# Link-only profiles: LinkedIn and X
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "label"),
    [("linkedin", "LinkedIn"), ("x", "X (Twitter)")],
)
def test_link_only_platforms_have_no_feed(slug, label):
    platform = get_platform(slug)

    assert platform.has_feed is False
    assert refusal(slug, "ana") == f"{label} has no public feed, so plnorg only links to the profile."


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://www.linkedin.com/in/ana-lopez", "https://www.linkedin.com/in/ana-lopez/"),
        ("https://www.linkedin.com/in/ana-lopez/", "https://www.linkedin.com/in/ana-lopez/"),
        ("HTTPS://LinkedIn.com/in/ana-lopez-12345/?trk=x", "https://www.linkedin.com/in/ana-lopez-12345/"),
        ("https://uk.linkedin.com/in/ana-lopez", "https://www.linkedin.com/in/ana-lopez/"),
        ("linkedin.com/in/ana-lopez", "https://www.linkedin.com/in/ana-lopez/"),
        ("ana-lopez", "https://www.linkedin.com/in/ana-lopez/"),
        ("https://www.linkedin.com/company/plnorg/", "https://www.linkedin.com/company/plnorg/"),
        ("https://www.linkedin.com/in/jos%C3%A9-garc%C3%ADa", "https://www.linkedin.com/in/jos%C3%A9-garc%C3%ADa/"),
    ],
)
def test_linkedin_profile_url(value, expected):
    assert get_platform("linkedin").profile_url(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "https://example.com/in/ana",
            "That is not a LinkedIn link. Use an address like https://www.linkedin.com/in/ana.",
        ),
        (
            "https://www.linkedin.com/feed/",
            "That LinkedIn link does not point to a profile or a company page. "
            "Use an address like https://www.linkedin.com/in/ana.",
        ),
        (
            "ana lopez",
            "That is not a LinkedIn profile name. Paste the profile's address, like https://www.linkedin.com/in/ana.",
        ),
    ],
)
def test_linkedin_refusals(value, message):
    with pytest.raises(PlatformInputError) as caught:
        get_platform("linkedin").profile_url(value)

    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("@jack", "https://x.com/jack"),
        ("jack", "https://x.com/jack"),
        ("https://twitter.com/jack", "https://x.com/jack"),
        ("https://mobile.twitter.com/jack/", "https://x.com/jack"),
        ("https://x.com/Jack_Dorsey/status/20", "https://x.com/Jack_Dorsey"),
        ("x.com/jack", "https://x.com/jack"),
    ],
)
def test_x_profile_url(value, expected):
    assert get_platform("x").profile_url(value) == expected


X_NAME = "An X user name has only letters, digits and underscores (at most 15 characters), like @ana."


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("jack.dorsey", X_NAME),
        ("a_very_long_user_name", X_NAME),
        ("https://x.com/home", X_NAME),
        ("https://x.com/", "Add the user name: https://x.com/ana."),
        ("https://bsky.app/profile/jack", "That is not an X (Twitter) link. Use an address like https://x.com/ana."),
    ],
)
def test_x_refusals(value, message):
    with pytest.raises(PlatformInputError) as caught:
        get_platform("x").profile_url(value)

    assert str(caught.value) == message


# --------------------------------------------------------------------------
# Guessing the platform from a link
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "slug"),
    [
        ("https://bsky.app/profile/ana.bsky.social", "bluesky"),
        ("https://www.youtube.com/@GoogleDevelopers", "youtube"),
        ("https://m.youtube.com/channel/UCBR8-60-B28hp2BmDPdntcQ", "youtube"),
        ("https://youtu.be/dQw4w9WgXcQ", "youtube"),
        ("https://github.com/octocat", "github"),
        ("https://ana.substack.com/p/post", "substack"),
        ("https://medium.com/@ana", "medium"),
        ("https://ana.medium.com/", "medium"),
        ("https://dev.to/ana", "devto"),
        ("https://www.linkedin.com/in/ana", "linkedin"),
        ("https://twitter.com/jack", "x"),
        ("https://x.com/jack", "x"),
        ("https://mastodon.social/@ana", "mastodon"),
        ("https://hachyderm.io/@ana/", "mastodon"),
        ("https://social.example.org/@ana@mastodon.social", "mastodon"),
        ("@ana@mastodon.social", "mastodon"),
        (" HTTPS://GitHub.com/octocat ", "github"),
        ("https://example.com/blog", None),
        ("https://example.com/", None),
        ("ana@example.com", None),
        ("ana.bsky.social", None),
        ("not a url", None),
        ("", None),
    ],
)
def test_detect_platform(value, slug):
    platform = detect_platform(value)

    assert (platform.slug if platform else None) == slug
