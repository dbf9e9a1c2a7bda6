"""Django admin: read-only views of the mirror and the histories (for superusers)."""

from django.contrib import admin

from snapshots.forms.auth import AdminLoginForm
from snapshots.models import AuditEvent, Snapshot, StatusChange


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Snapshot)
class SnapshotAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "status", "project_id", "size", "created_at", "deleted_at")
    list_filter = ("status",)
    search_fields = ("id", "name", "description")


@admin.register(StatusChange)
class StatusChangeAdmin(ReadOnlyAdmin):
    list_display = ("snapshot_id", "from_status", "to_status", "source", "observed_at")
    list_filter = ("source", "to_status")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_name", "action", "target_id", "outcome")
    list_filter = ("outcome", "action")
    search_fields = ("actor_name", "target_id", "request_id")


admin.site.login_form = AdminLoginForm  # says "too many failed sign-ins" when throttled
