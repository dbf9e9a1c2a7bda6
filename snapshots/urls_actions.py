"""Creating, changing and deleting snapshots, and the admin repairs."""

from django.urls import path

from snapshots.views import (
    actions,
    admin_actions,
    manageable,
    operations,
    stuck,
    volumes,
    workflows,
)

urlpatterns = [
    path("create/", actions.create, name="create"),
    path("volumes/", volumes.volume_list, name="volumes"),
    path("stuck/", stuck.stuck_list, name="stuck"),
    path("operation/", operations.operation_detail, name="operation"),
    path("manageable/", manageable.manageable_list, name="manageable"),
    path("manageable/refresh/", manageable.manageable_refresh, name="manageable-refresh"),
    path("manageable/manage/", manageable.manage, name="manage"),
    path("bulk/delete/", actions.bulk_delete, name="bulk-delete"),
    path("bulk/force-delete/", admin_actions.bulk_force_delete, name="bulk-force-delete"),
    path("bulk/reset-status/", admin_actions.bulk_reset_status, name="bulk-reset-status"),
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
