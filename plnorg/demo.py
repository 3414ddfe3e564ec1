"""`seed_demo`: an example organization, idempotent. Each app adds its part."""

from members.demo import DEMO_LOGINS, DEMO_PASSWORD, demo_email, seed_people


def demo_seed(*, stdout=None) -> dict:
    members = seed_people()
    # Each app adds its part here, in dependency order (members -> feeds ->
    # workshops -> plnorg), each idempotent.
    return {"members": members}


def demo_logins_text() -> str:
    lines = [f"Demo logins (password for all: {DEMO_PASSWORD}):"]
    for role, local, what in DEMO_LOGINS:
        lines.append(f"  {role:<14} {demo_email(local):<28} {what}")
    return "\n".join(lines)
