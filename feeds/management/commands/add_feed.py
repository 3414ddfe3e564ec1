"""Register accounts or sources for a member from the command line.

    python manage.py add_feed @ana@mastodon.social https://example.com/blog --member ana@example.com --kind account

Prints one line per input (added / already there / refused: why) and exits
with status 1 if any input was refused.
"""

from django.core.management.base import BaseCommand, CommandError

from feeds.models import Subscription
from feeds.platforms import PLATFORMS
from feeds.services import SubscriptionRefused, subscription_add_by_handle, subscription_add_by_url
from members.models import Member


class Command(BaseCommand):
    help = "Register accounts or sources (handles, profile links, feed or site URLs) for a member."

    def add_arguments(self, parser):
        parser.add_argument("inputs", nargs="+", metavar="URL_OR_HANDLE")
        parser.add_argument("--member", required=True, metavar="EMAIL", help="The member's email address.")
        parser.add_argument("--kind", choices=Subscription.Kind.values, default=Subscription.Kind.SOURCE)
        parser.add_argument(
            "--platform",
            choices=[platform.slug for platform in PLATFORMS],
            help="Read every input as a handle on this platform (default: guess from the input).",
        )
        sharing = parser.add_mutually_exclusive_group()
        sharing.add_argument("--shared", dest="is_shared", action="store_true", default=None)
        sharing.add_argument("--private", dest="is_shared", action="store_false")

    def handle(self, *args, inputs, member, kind, platform, is_shared, **options):
        found = Member.objects.filter(user__email__iexact=member.strip()).first()
        if found is None:
            raise CommandError(f"No member with the email address {member}.")
        refused = 0
        for value in inputs:
            try:
                if platform:
                    result = subscription_add_by_handle(
                        member=found, platform=platform, handle=value, kind=kind, is_shared=is_shared
                    )
                else:
                    result = subscription_add_by_url(member=found, url=value, kind=kind, is_shared=is_shared)
            except SubscriptionRefused as exc:
                refused += 1
                self.stdout.write(f"refused: {value}: {exc.message}")
                continue
            if result.needs_choice:
                refused += 1
                urls = ", ".join(candidate.url for candidate in result.candidates)
                self.stdout.write(f"refused: {value}: the site has several feeds; run again with one of them: {urls}")
            elif result.created:
                self.stdout.write(f"added: {value} -> {result.subscription.feed.url}")
            else:
                self.stdout.write(f"already there: {value} -> {result.subscription.feed.url}")
        if refused:
            raise CommandError(f"{refused} of {len(inputs)} refused.")
