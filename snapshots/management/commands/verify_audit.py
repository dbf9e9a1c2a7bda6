"""`manage.py verify_audit`: check the audit log's hash chain.

Exits 1 and names the first broken link when an event was edited, removed or inserted. The
hashes are keyed (settings.AUDIT_HMAC_KEYS), so a rewrite made with database access alone is
caught too. On success it prints the chain's head, to compare with the heads the beat logged.
"""

from django.core.management.base import BaseCommand, CommandError

from snapshots.models import AuditEvent
from snapshots.services.audit import log_head, verify_chain


class Command(BaseCommand):
    help = (
        "Check that no audit event was edited, removed or inserted: recompute every event's hash "
        "and its link to the one before. Exits 1 and names the first broken event otherwise."
    )

    def handle(self, *args, **options) -> None:
        report = verify_chain()
        if not report.ok:
            event = AuditEvent.objects.filter(pk=report.broken_id).first()
            what = f"event #{report.broken_id}"
            if event is not None:
                what += (
                    f" ({event.created_at:%Y-%m-%d %H:%M:%S} {event.action} by {event.actor_name})"
                )
            raise CommandError(
                f"Audit chain BROKEN at {what}: {report.reason}. "
                f"{report.checked} events before it are intact.",
                returncode=1,
            )
        anchor = f", starting at the prune anchor #{report.anchor_id}" if report.anchor_id else ""
        self.stdout.write(f"Audit chain OK: {report.checked} events verified{anchor}.")
        # Compare with the heads the beat logged: events removed from the end show up there.
        self.stdout.write(log_head())
