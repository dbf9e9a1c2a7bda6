from django.urls import path

from snapshots.views import snapshots

app_name = "snapshots"

urlpatterns = [
    path("", snapshots.snapshot_list, name="list"),
]
