"""Listing and inspecting snapshots."""

from django.urls import path

from snapshots.views import browse

urlpatterns = [
    path("", browse.snapshot_list, name="list"),
    path("live/", browse.live_rows, name="live"),
    path("table-settings/", browse.table_settings, name="table-settings"),
    path("<str:snapshot_id>/", browse.snapshot_detail, name="detail"),
    path("<str:snapshot_id>/live/", browse.snapshot_detail_live, name="detail-live"),
]
