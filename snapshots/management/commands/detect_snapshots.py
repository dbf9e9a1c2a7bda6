"""`manage.py detect_snapshots [--snapshot ID] [--loop]`: one detection tick, by hand.

The worker's beat runs it every DETECT_INTERVAL seconds; this is for looking at it (and `--loop`
runs it without Celery, every DETECT_INTERVAL, until Ctrl-C). `track_snapshots` is the same
command under the name it had before detection.
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from snapshots.cloud.errors import CloudError
from snapshots.services.sync import track_snapshots


class Command(BaseCommand):
    help = "Find what changed in the cloud since the last tick (a few cloud-wide listings)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--snapshot", default=None, help="check this snapshot id now")
        parser.add_argument(
            "--loop", action="store_true", help="repeat every DETECT_INTERVAL until interrupted"
        )

    def handle(self, *args, **options) -> None:
        snapshot_id = options["snapshot"]
        while True:
            started = time.monotonic()
            try:
                result = track_snapshots(snapshot_id=snapshot_id)
            except CloudError as exc:
                if not options["loop"]:
                    raise CommandError(f"detect failed: {exc.user_message()}") from exc
                self.stderr.write(f"detect failed: {exc.user_message()}")
            else:
                self.stdout.write(result.summary())
            if not options["loop"]:
                return
            snapshot_id = None
            time.sleep(max(0.0, settings.DETECT_INTERVAL - (time.monotonic() - started)))
