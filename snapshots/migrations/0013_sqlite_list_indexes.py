"""On SQLite only: indexes that let the snapshot list stop after a page when it is sorted by
name or by volume, or read within a member's project.

SQLite has no table statistics here (nothing runs ANALYZE), so its planner takes an equality
on an index's leading column, `deleted_at IS NULL` included, as narrowing to a handful of rows
and picks the index with the most of them, then sorts whatever it finds. Over 100,000 live
snapshots that meant sorting tens of thousands of rows for a name or volume sort, and reading
every row in a size range to keep one project's. These indexes give it, for each of those
mixes, a path that starts with the same equalities and is already in the list's order (ties by
id the same way); the status and project columns at the end let a status filter, "failed only"
or a member's project be checked inside the index, without reading the rows. PostgreSQL keeps
its own partial indexes (migration 0011) and gets none of these, so its writes cost the same.
"""

from django.db import migrations, models

SQLITE_INDEXES = (
    models.Index(
        fields=["deleted_at", "name", "id", "status", "project_id"], name="snap_sqlite_live_name"
    ),
    models.Index(
        fields=["deleted_at", "volume_name", "volume_id", "id", "status", "project_id"],
        name="snap_sqlite_live_volume",
    ),
    models.Index(fields=["project_id", "deleted_at", "size", "id"], name="snap_sqlite_proj_size"),
)


def create_sqlite_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        snapshot = apps.get_model("snapshots", "Snapshot")
        for index in SQLITE_INDEXES:
            schema_editor.add_index(snapshot, index)


def drop_sqlite_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        snapshot = apps.get_model("snapshots", "Snapshot")
        for index in SQLITE_INDEXES:
            schema_editor.remove_index(snapshot, index)


class Migration(migrations.Migration):
    dependencies = [
        ("snapshots", "0012_listener_missed_at"),
    ]

    operations = [
        migrations.RunPython(create_sqlite_indexes, drop_sqlite_indexes),
    ]
