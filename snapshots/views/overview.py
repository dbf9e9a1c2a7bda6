"""The overview: charts and "right now" lists over everything the user may read.

The numbers come from selectors/charts.py (a fixed number of aggregate queries); the page embeds
them with `json_script` and static/js/charts.js draws them with the vendored Chart.js.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe

from snapshots import memo
from snapshots.formatting import seconds_duration
from snapshots.observability import heartbeats
from snapshots.permissions import Action, require
from snapshots.selectors import charts
from snapshots.services import listen


def _days(label: str, most: int, initial: int) -> forms.IntegerField:
    return forms.IntegerField(
        label=label, min_value=1, max_value=most, required=False, initial=initial
    )


class OverviewForm(forms.Form):
    """The two knobs of the page, both optional query parameters."""

    older_than = _days("Older than (days)", 3650, charts.DEFAULT_OLDER_THAN)
    days = _days("Per-day charts over (days)", 366, charts.DEFAULT_DAYS)


@require_safe
@login_required
def overview(request):
    require(request.dashboard_scope, Action.VIEW)
    form = OverviewForm(request.GET or None)
    older_than, days = charts.DEFAULT_OLDER_THAN, charts.DEFAULT_DAYS
    status = 200
    if form.is_bound:
        if form.is_valid():
            older_than = form.cleaned_data["older_than"] or older_than
            days = form.cleaned_data["days"] or days
        else:
            status = 400
    scope = request.dashboard_scope
    data = memo.remember(
        ("overview", memo.projects_key(scope), days, older_than),
        lambda: charts.overview(scope, days=days, older_than_days=older_than),
    )
    return render(
        request,
        "audit/overview.html",
        {
            "form": form,
            "data": data,
            "charts": data.charts(),
            "sees_all": request.dashboard_scope.sees_all_projects,
            "total_snapshots": sum(data.by_status.series[0].data),
            "average": seconds_duration(data.durations.average_seconds),
            "longest": seconds_duration(data.durations.longest_seconds),
            "days_note": f"The last {days} days, deleted snapshots included.",
            "old_title": f"Older than {older_than} days",
            "stale_pulses": [p for p in heartbeats.pulses() if p.stale],
            "detection": listen.mode(),
        },
        status=status,
    )
