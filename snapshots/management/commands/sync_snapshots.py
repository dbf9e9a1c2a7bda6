"""`manage.py sync_snapshots`: bring the mirror up to date with the cloud now.

The worker's beat spreads the same over SWEEP_INTERVAL seconds; this runs it at once (and `make
run` runs it once before the worker starts). It ends by printing one line:
`synced N snapshots (A new, B changed, C gone) in T s`.
"""

from django.core.management.base import BaseCommand, CommandError

from snapshots.cloud.errors import CloudError
from snapshots.services import locks
from snapshots.services.sync import sync_snapshots


class Command(BaseCommand):
    help = "Read every snapshot (and volume, and project) of the cloud into the mirror."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--page-size",
            type=int,
            default=None,
            help="snapshots per list call (default: the SYNC_PAGE_SIZE setting)",
        )

    def handle(self, *args, **options) -> None:
        verbose = options["verbosity"] > 1

        def progress(pages: int, seen: int) -> None:
            if verbose:
                self.stderr.write(f"page {pages}: {seen} snapshots so far")

        try:
            result = sync_snapshots(page_size=options["page_size"], on_page=progress)
        except locks.LockHeld as held:
            raise CommandError(f"another sync is running ({held}); try again later") from held
        except CloudError as exc:
            raise CommandError(f"sync failed: {exc.user_message()}") from exc
        self.stdout.write(result.summary())
