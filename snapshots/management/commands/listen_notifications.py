"""`manage.py listen_notifications [--seconds S]`: apply Cinder's notifications to the mirror as
they arrive (services/listen.py), until Ctrl-C. Needs CINDER_NOTIFICATIONS_URL; without it there
is nothing to listen to and polling alone keeps the mirror true."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from snapshots.services import listen


class Command(BaseCommand):
    help = "Consume Cinder's notifications from the dashboard's own queue and apply them."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default="", help="the bus (default: CINDER_NOTIFICATIONS_URL)")
        parser.add_argument("--seconds", type=float, default=None, help="stop after this long")

    def handle(self, *args, **options) -> None:
        url = options["url"] or settings.CINDER_NOTIFICATIONS_URL
        if not url:
            raise CommandError("CINDER_NOTIFICATIONS_URL is not set: nothing to listen to")
        applied = listen.listen(
            url=url,
            stop_after=options["seconds"],
            out=lambda line: (self.stdout.write(line), self.stdout.flush()),
        )
        self.stdout.write(f"applied {applied} notifications")
