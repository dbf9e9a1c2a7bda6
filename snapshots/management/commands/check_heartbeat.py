"""`manage.py check_heartbeat beat`: exit 0 when the role ticked within two periods, else 1.

For container health checks of the worker and the beat (compose's beat uses it).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from snapshots.observability import heartbeats


class Command(BaseCommand):
    help = "Exit 1 when a role's heartbeat (worker, beat, listener) is older than two periods."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "role", choices=[heartbeats.WORKER, heartbeats.BEAT, heartbeats.LISTENER]
        )

    def handle(self, *args, **options) -> None:
        pulse = heartbeats.pulse(options["role"])
        if pulse.age_seconds is None:
            raise CommandError(f"{pulse.name}: no heartbeat yet")
        text = f"{pulse.name}: last tick {pulse.age_seconds:.0f}s ago"
        if pulse.stale:
            raise CommandError(f"{text} (stale)")
        self.stdout.write(text)
