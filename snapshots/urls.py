"""Every URL of the app, one flat list. Fixed words (create/, audit/, stuck/, ...) come before
the catch-all `<snapshot_id>/` routes, which would otherwise take them as snapshot ids."""

from django.urls import path

from snapshots.views import (
    actions,
    admin_actions,
    audit,
    browse,
    manageable,
    operations,
    overview,
    stuck,
    volumes,
    workflows,
)

app_name = "snapshots"

urlpatterns = [
    path("", browse.snapshot_list, name="list"),
    path("live/", browse.live_rows, name="live"),
    path("table-settings/", browse.table_settings, name="table-settings"),
    path("create/", actions.create, name="create"),
    path("volumes/", volumes.volume_list, name="volumes"),
    path("stuck/", stuck.stuck_list, name="stuck"),
    path("audit/", audit.audit_log, name="audit"),
    path("history/", audit.status_history, name="history"),
    path("overview/", overview.overview, name="overview"),
    path("operation/", operations.operation_detail, name="operation"),
    path("manageable/", manageable.manageable_list, name="manageable"),
    path("manageable/refresh/", manageable.manageable_refresh, name="manageable-refresh"),
    path("manageable/manage/", manageable.manage, name="manage"),
    path("bulk/delete/", actions.bulk_delete, name="bulk-delete"),
    path("bulk/force-delete/", admin_actions.bulk_force_delete, name="bulk-force-delete"),
    path("bulk/reset-status/", admin_actions.bulk_reset_status, name="bulk-reset-status"),
    path("<str:snapshot_id>/", browse.snapshot_detail, name="detail"),
    path("<str:snapshot_id>/live/", browse.snapshot_detail_live, name="detail-live"),
    path("<str:snapshot_id>/edit/", actions.edit, name="edit"),
    path("<str:snapshot_id>/metadata/", actions.metadata, name="metadata"),
    path("<str:snapshot_id>/delete/", actions.delete, name="delete"),
    path("<str:snapshot_id>/force-delete/", admin_actions.force_delete, name="force-delete"),
    path("<str:snapshot_id>/reset-status/", admin_actions.reset_status, name="reset-status"),
    path("<str:snapshot_id>/set-status/", admin_actions.set_status, name="set-status"),
    path("<str:snapshot_id>/create-volume/", workflows.create_volume, name="create-volume"),
    path("<str:snapshot_id>/revert/", workflows.revert, name="revert"),
    path("<str:snapshot_id>/unmanage/", workflows.unmanage, name="unmanage"),
    path("<str:snapshot_id>/made-volumes/", workflows.made_volumes, name="made-volumes"),
]
