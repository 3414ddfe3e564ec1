"""`seed_demo`: an example organization, idempotent. Each app adds its part."""

from feeds.demo import seed_feeds
from feeds.demo_curation import seed_curation
from feeds.reader.demo import seed_reader
from members.demo import DEMO_LOGINS, DEMO_PASSWORD, demo_email, seed_people
from workshops.demo import seed_workshops
from workshops.demo_clock import seed_clock

from .introductions_demo import seed_introductions

# A string only one member's private feeds contain: no page but that member's
# own may ever show it (the consent checks search every page for it).
CONSENT_CANARY = "zz-canary-7f3a9"
CANARY_OWNER = "victor"


def demo_seed(*, stdout=None) -> dict:
    members = seed_people()
    seed_feeds(members)
    seed_curation(members)
    seed_reader(members)
    seed_workshops(members)
    seed_clock(members)
    # Each app adds its part here, in dependency order (members -> feeds ->
    # workshops -> plnorg), each idempotent.
    seed_introductions(members)
    # Last: the leaders' dashboard reads precomputed snapshots.
    from .dashboard import dashboard_refresh

    dashboard_refresh()
    return {"members": members}


def demo_logins_text() -> str:
    lines = [f"Demo logins (password for all: {DEMO_PASSWORD}):"]
    for role, local, what in DEMO_LOGINS:
        lines.append(f"  {role:<14} {demo_email(local):<28} {what}")
    return "\n".join(lines)
