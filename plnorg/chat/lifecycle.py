"""Chat channels and member data (registered with core.lifecycle from
ChatConfig.ready).

A channel belongs to the organization (or to a workshop), not to a member:
who created it is kept for its other admins and set to nobody when that
account is deleted. Deliveries name no member; what they carried is only
what the organization could already see (picks of shared entries, counts of
5 or more) and they are purged after OUTBOX_RETENTION_DAYS.
"""

from core.lifecycle import register_exempt


def register() -> None:
    register_exempt(
        {
            "chat.Channel": (
                "An organization's (or a workshop's) chat channel; created_by is kept for its admins "
                "and set to nobody when that account is deleted."
            ),
        }
    )
