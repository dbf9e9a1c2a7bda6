"""After the squashed schema:
- indexes in the list's own orders (newest first and by size, ties by id the same way), and on
  PostgreSQL a GIN index over the metadata so the "has this key" filter stops reading every row;
- SweepPart: a sweep round cut into parts of the mirror's key order, each with its own lease and
  cursor, so several workers share a round;
- DetectState.recent_top*: the newest-updated snapshot detection last saw, for its one-row probe
  at idle.
"""

from django.db import migrations, models


def create_metadata_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS snap_metadata_keys ON snapshots_snapshot USING gin (metadata)"
        )


def drop_metadata_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS snap_metadata_keys")


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
        migrations.RunPython(create_metadata_index, drop_metadata_index),
    ]
