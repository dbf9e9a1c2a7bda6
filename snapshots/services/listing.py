"""What detection and the sweep share: marker paging that survives a vanished marker, and the
cloud's reachability (the outage banner) as the workers last saw it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from django.utils import timezone

from snapshots.cloud import errors
from snapshots.services import reachability

MARKER_RETRIES = 3  # earlier items of a page tried when its last one vanished mid-listing


def cloud_failed(exc: errors.CloudError) -> None:
    reachability.record_failure(exc)


def cloud_answered() -> None:
    """One UPDATE that changes nothing (and writes nothing) while the cloud stays reachable."""
    reachability.record_answer()


def pages(
    fetch: Callable[[str | None, int], list],
    page_size: int,
    marker: str | None = None,
    earlier: list[str] | None = None,
) -> Iterator[tuple[datetime, list]]:
    """(when requested, items) for every page of a marker-paged listing, from `marker` on.

    If the marker (last item of the previous page) leaves the cloud between two requests, Cinder
    answers 404; the listing then goes on after an earlier item of that page, which skips
    nothing and repeats nothing, since the vanished one is no longer in the order. A listing
    resumed from a stored `marker` passes the ids read just before it as `earlier`."""
    previous: list[str] = list(earlier or [])
    while True:
        observed_at = timezone.now()
        try:
            items = fetch(marker, page_size)
        except errors.NotFound:
            if marker is None:
                raise
            items = None
            for before in reversed(previous[-(MARKER_RETRIES + 1) : -1]):
                observed_at = timezone.now()
                try:
                    items = fetch(before, page_size)
                    break
                except errors.NotFound:
                    continue
            if items is None:
                raise errors.Unavailable(
                    "The listing changed too much while it was read; it will be read again"
                ) from None
        yield observed_at, items
        if len(items) < page_size:
            return
        previous = [item.id for item in items]
        marker = items[-1].id
