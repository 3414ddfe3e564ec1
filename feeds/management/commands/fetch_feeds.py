"""fetch_feeds [--all] [--sync]: fetch due (or all) feeds now.

Without --sync the feeds are claimed and queued for the workers, in batches
(``feeds.fetch_feeds``). With --sync they are fetched here, several at once
(as a worker fetches a batch), without a broker, and the command ends with
one line: ``fetched N feeds: A new entries, B updated, C not
modified, D errors``.
"""

from django.core.management.base import BaseCommand

from feeds.ingest import feeds_fetch_batch
from feeds.models import Feed, FetchLog
from feeds.scheduler import feeds_claim_due, feeds_queue, interleaved_by_host

# --sync waits this long for a busy host, and starts fetches for up to a day.
SYNC_HOST_WAIT_SECONDS = 60
SYNC_BUDGET_SECONDS = 24 * 3600


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
            self.stdout.write(f"queued {feeds_queue(ids, lease=lease)} feeds")
            return
        batch = feeds_fetch_batch(
            feed_ids=ids, lease=lease, host_wait_seconds=SYNC_HOST_WAIT_SECONDS, budget_seconds=SYNC_BUDGET_SECONDS
        )
        fetched = new = updated = not_modified = errors = 0
        for outcome in batch.outcomes:
            fetched += 1
            new += outcome.new_entries
            updated += outcome.updated_entries
            if outcome.outcome in (FetchLog.Outcome.ERROR, FetchLog.Outcome.GONE):
                errors += 1
            elif outcome.new_entries == 0 and outcome.updated_entries == 0:
                not_modified += 1
        if batch.postponed:
            self.stderr.write(f"{len(batch.postponed)} feeds not fetched: their hosts stayed busy")
        self.stdout.write(
            f"fetched {fetched} feeds: {new} new entries, {updated} updated, "
            f"{not_modified} not modified, {errors} errors"
        )
