"""fetch_feeds [--all] [--sync]: fetch due (or all) feeds now.

Without --sync the feeds are claimed and queued for the workers. With --sync
they are fetched here, one after another, without a broker, and the command
ends with one line: ``fetched N feeds: A new entries, B updated, C not
modified, D errors``.
"""

from django.core.management.base import BaseCommand

from feeds.ingest import feed_fetch
from feeds.models import Feed, FetchLog
from feeds.scheduler import feeds_claim_due, interleaved_by_host


class Command(BaseCommand):
    help = "Fetch the feeds that are due (or all active feeds with --all)."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Every active feed, due or not.")
        parser.add_argument("--sync", action="store_true", help="Fetch in this process, without a broker.")

    def handle(self, *args, **options):
        if options["all"]:
            feeds = list(
                Feed.objects.filter(status=Feed.Status.ACTIVE, is_demo=False).order_by("pk").values_list("pk", "url")
            )
            lease = None
        else:
            feeds, lease_until = feeds_claim_due()
            lease = lease_until.isoformat()
        ids = interleaved_by_host(feeds)
        if not options["sync"]:
            from feeds.tasks import fetch_feed

            for pk in ids:
                fetch_feed.apply_async(kwargs={"feed_id": pk, "lease": lease})
            self.stdout.write(f"queued {len(ids)} feeds")
            return
        fetched = new = updated = not_modified = errors = 0
        for pk in ids:
            outcome = feed_fetch(feed_id=pk, lease=lease, host_wait_seconds=60)
            if outcome is None:
                continue
            fetched += 1
            new += outcome.new_entries
            updated += outcome.updated_entries
            if outcome.outcome in (FetchLog.Outcome.ERROR, FetchLog.Outcome.GONE):
                errors += 1
            elif outcome.new_entries == 0 and outcome.updated_entries == 0:
                not_modified += 1
        self.stdout.write(
            f"fetched {fetched} feeds: {new} new entries, {updated} updated, "
            f"{not_modified} not modified, {errors} errors"
        )
