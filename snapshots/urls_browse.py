"""Listing and inspecting snapshots."""

from django.urls import path

from snapshots.views import browse

urlpatterns = [
    path("", browse.snapshot_list, name="list"),
]
