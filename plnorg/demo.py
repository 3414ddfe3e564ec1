"""`seed_demo`: an example organization, idempotent. Each app adds its part."""

from feeds.demo import seed_curation, seed_feeds
from feeds.reader.demo import seed_reader
from members.demo import DEMO_LOGINS, DEMO_PASSWORD, demo_email, seed_people
from workshops.clock.demo import seed_clock
from workshops.demo import seed_attendance_time, seed_workshops

from .chat.demo import seed_chat
from .introductions.demo import seed_introductions


def demo_seed(*, stdout=None) -> dict:
    members = seed_people()
    seed_feeds(members)
    seed_curation(members)
    seed_reader(members)
    seed_workshops(members)
    seed_clock(members)
    seed_attendance_time(members)
    # Each app adds its part here, in dependency order (members -> feeds ->
    # workshops, clock -> the plnorg apps), each idempotent.
    seed_introductions(members)
    seed_chat(members)
    # Last: the leaders' dashboard reads precomputed snapshots.
    from .dashboard.services import dashboard_refresh

    dashboard_refresh()
    return {"members": members}


def demo_logins_text() -> str:
    lines = [f"Demo logins (password for all: {DEMO_PASSWORD}):"]
    for role, local, what in DEMO_LOGINS:
        lines.append(f"  {role:<14} {demo_email(local):<28} {what}")
    return "\n".join(lines)
