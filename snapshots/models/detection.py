"""What change detection remembers between ticks, and what the notification listener reports.

Each is one small row (or one row per name) written by the workers; pages only read them.
"""

from django.db import models
from django.utils import timezone


class TickSlot(models.Model):
    """The last period a beat tick of `name` claimed: a second beat's copy of the same tick
    finds its period taken and does nothing, so two beats never double the work."""

    name = models.CharField(primary_key=True, max_length=64)
    period = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} at period {self.period}"


class DetectState(models.Model):
    """One row: where detection and the spread-out sweep stand."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    # The newest `updated_at` Cinder has shown us: the next tick reads down to it, no deeper.
    watermark = models.DateTimeField(null=True, blank=True)
    # Cinder's count a walk read to its end without explaining: not walked again for the same
    # count (the sweep settles it), so one odd row never costs a walk a tick.
    unexplained_count = models.BigIntegerField(null=True, blank=True)
    # The newest-updated snapshot the last full read of the recent listing found, and when (our
    # clock) it first became the top: once it has stayed the top for longer than the overlap,
    # a tick only asks Cinder for its top row (and count) and reads deeper when that changed.
    recent_top = models.CharField(max_length=64, blank=True)
    recent_top_updated_at = models.DateTimeField(null=True, blank=True)
    recent_top_seen_at = models.DateTimeField(null=True, blank=True)
    # When each transitional status whose rows are all stuck was last listed ({status: iso}).
    stuck_listed = models.JSONField(default=dict, blank=True)
    # The sweep: which listing it is in ("volumes", "snapshots" or "" between rounds), the
    # marker to go on from, and the (created_at iso, id) key of the last row it read.
    sweep_phase = models.CharField(max_length=16, blank=True)
    sweep_marker = models.CharField(max_length=64, blank=True)
    sweep_key = models.JSONField(default=list, blank=True)
    sweep_started_at = models.DateTimeField(null=True, blank=True)
    sweep_finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"watermark {self.watermark}"

    @classmethod
    def get(cls) -> "DetectState":
        obj, _ = cls.objects.get_or_create(id=1)
        return obj


class ListenerState(models.Model):
    """One row written by the notification listener: whether events flow, so the dashboard can
    say which mode it runs in (events, or polling alone)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    connected = models.BooleanField(default=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    events = models.PositiveBigIntegerField(default=0)
    last_error = models.CharField(max_length=255, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    # when detection last found a change no notification had brought (the bus then counts as
    # not delivering until an event arrives after it)
    missed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return "connected" if self.connected else "not connected"


class SweepPart(models.Model):
    """One partition of the current sweep round: a range of a listing's key order that one
    worker at a time reads (lease `sweep-part-<index>`), with its own cursor.

    Keys are Cinder's default order, (created_at, id) descending. A part covers the rows below
    its upper key (exclusive; none: from the top) down to its lower key (inclusive; none: to the
    listing's end). Index 0 is the volume listing (one part); the snapshot parts follow."""

    index = models.PositiveSmallIntegerField(primary_key=True)
    kind = models.CharField(max_length=16)  # "volumes" or "snapshots"
    round_started_at = models.DateTimeField()
    upper_created_at = models.DateTimeField(null=True, blank=True)
    upper_id = models.CharField(max_length=64, blank=True)
    lower_created_at = models.DateTimeField(null=True, blank=True)
    lower_id = models.CharField(max_length=64, blank=True)
    # The key of the last row read (the next page's absence range starts below it) and the id
    # to list on from; both empty until the first page.
    cursor_created_at = models.DateTimeField(null=True, blank=True)
    cursor_id = models.CharField(max_length=64, blank=True)
    pages = models.PositiveIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["index"]

    def __str__(self) -> str:
        return f"sweep part {self.index} ({self.kind})"
