"""After the squashed schema:
- indexes in the list's own orders (newest first and by size, ties by id the same way); on
  PostgreSQL, which does not take a leading `deleted_at IS NULL` column as fixed when it orders,
  the same orders (and by volume) as partial indexes over live rows, and a GIN index over the
  metadata so the "has this key" filter stops reading every row;
- SweepPart: a sweep round cut into parts of the mirror's key order, each with its own lease and
  cursor, so several workers share a round;
- DetectState.recent_top*: the newest-updated snapshot detection last saw, for its one-row probe
  at idle.
"""

from django.db import migrations, models

POSTGRESQL_INDEXES = {
    "snap_pg_live_newest": "(created_at, id) WHERE deleted_at IS NULL",
    "snap_pg_live_size": "(size, id) WHERE deleted_at IS NULL",
    "snap_pg_live_volume": "(volume_name, volume_id, id) WHERE deleted_at IS NULL",
    "snap_metadata_keys": "USING gin (metadata)",
}


def create_postgresql_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, definition in POSTGRESQL_INDEXES.items():
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON snapshots_snapshot {definition}"
            )


def drop_postgresql_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in POSTGRESQL_INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("snapshots", "0001_squashed_0010_detection_state"),
    ]

    operations = [
        migrations.CreateModel(
            name="SweepPart",
            fields=[
                ("index", models.PositiveSmallIntegerField(primary_key=True, serialize=False)),
                ("kind", models.CharField(max_length=16)),
                ("round_started_at", models.DateTimeField()),
                ("upper_created_at", models.DateTimeField(blank=True, null=True)),
                ("upper_id", models.CharField(blank=True, max_length=64)),
                ("lower_created_at", models.DateTimeField(blank=True, null=True)),
                ("lower_id", models.CharField(blank=True, max_length=64)),
                ("cursor_created_at", models.DateTimeField(blank=True, null=True)),
                ("cursor_id", models.CharField(blank=True, max_length=64)),
                ("pages", models.PositiveIntegerField(default=0)),
                ("done_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ["index"],
            },
        ),
        migrations.RemoveIndex(
            model_name="snapshot",
            name="snap_live_created",
        ),
        migrations.AddField(
            model_name="detectstate",
            name="recent_top",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="detectstate",
            name="recent_top_seen_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="detectstate",
            name="recent_top_updated_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="snapshot",
            index=models.Index(
                fields=["deleted_at", "-created_at", "-id"], name="snap_live_newest"
            ),
        ),
        migrations.AddIndex(
            model_name="snapshot",
            index=models.Index(fields=["deleted_at", "size", "id"], name="snap_live_size"),
        ),
        migrations.RunPython(create_postgresql_indexes, drop_postgresql_indexes),
    ]
