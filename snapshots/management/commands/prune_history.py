"""`manage.py prune_history --older-than DAYS`: remove old status changes and audit events.

History is append-only everywhere else; this command is the one privileged way to shrink it
(services/retention.py). It records itself as an audit event, and `verify_audit` still passes
afterwards: the prune's event names the first kept event as the chain's new anchor.
Default age: settings.HISTORY_RETENTION_DAYS (environment variable of the same name).
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from snapshots.services.retention import prune_history


class Command(BaseCommand):
    help = (
        "Delete status changes and audit events older than DAYS days (default "
        "HISTORY_RETENTION_DAYS), and deleted snapshots with no history left. Audited."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            default=None,
            metavar="DAYS",
            help="age in days (default: the HISTORY_RETENTION_DAYS setting)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="only count what would be removed"
        )

    def handle(self, *args, **options) -> None:
        days = options["older_than"]
        if days is None:
            days = settings.HISTORY_RETENTION_DAYS
        if days < 1:
            raise CommandError("--older-than must be at least 1 day")
        result = prune_history(
            older_than_days=days, actor_name="manage.py prune_history", dry_run=options["dry_run"]
        )
        verb = "Would remove" if options["dry_run"] else "Removed"
        self.stdout.write(
            f"{verb} {result.status_changes} status changes, {result.audit_events} audit events "
            f"and {result.snapshots} deleted snapshots older than {days} days "
            f"(before {result.cutoff:%Y-%m-%d %H:%M:%S %Z})."
        )
