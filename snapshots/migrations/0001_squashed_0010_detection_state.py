"""The schema as of 0010, in one migration (0001-0010 squashed before the first release).

Besides the models it creates, on PostgreSQL only:
- trigram indexes for the list's free-text search (a case-insensitive substring match, which
  Django writes as `UPPER(col::text) LIKE UPPER('%q%')`); where `CREATE EXTENSION pg_trgm` is
  refused, search works without them, only slower;
- a trigger that refuses UPDATE and DELETE on the history tables unless the transaction set
  `snapshots.history_write` (only the prune does, through
  `models.audit.privileged_history_writes`).

A database that applied 0001-0010 takes this as applied (`replaces`); one part-way through
them must first be migrated to 0010 by the release before this one.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

TRIGRAM_COLUMNS = ("name", "description", "id")
HISTORY_TABLES = ("snapshots_auditevent", "snapshots_statuschange")
GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION snapshots_history_append_only() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('snapshots.history_write', true), '') = 'on' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% on % refused: history is append-only (only prune_history removes rows)',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            try:
                cursor.execute("SAVEPOINT trgm")
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                cursor.execute("RELEASE SAVEPOINT trgm")
            except Exception:  # a missing privilege must not stop the migration
                cursor.execute("ROLLBACK TO SAVEPOINT trgm")
                print(
                    "\n  pg_trgm is not available (CREATE EXTENSION refused): the snapshot "
                    "search works without trigram indexes, only slower on large clouds."
                )
                return
        for column in TRIGRAM_COLUMNS:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS snap_trgm_{column} ON snapshots_snapshot "
                f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
            )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for column in TRIGRAM_COLUMNS:
            cursor.execute(f"DROP INDEX IF EXISTS snap_trgm_{column}")


def create_history_guard(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite: the ORM guard only (its flush in tests deletes rows with DELETE)
    schema_editor.execute(GUARD_FUNCTION, params=None)
    for table in HISTORY_TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION snapshots_history_append_only()"
        )


def drop_history_guard(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in HISTORY_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS snapshots_history_append_only()")


class Migration(migrations.Migration):
    initial = True

    replaces = [
        ("snapshots", "0001_initial"),
        ("snapshots", "0002_search_trigram_indexes"),
        ("snapshots", "0003_actions_volume_source_and_operation_state"),
        ("snapshots", "0004_login_throttle"),
        ("snapshots", "0005_audit_keyed"),
        ("snapshots", "0006_messages_quota_manageable"),
        ("snapshots", "0007_heartbeat"),
        ("snapshots", "0008_metrics_index"),
        ("snapshots", "0009_alerts"),
        ("snapshots", "0010_detection_state"),
    ]

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AlertRule",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100, unique=True)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("stuck", "A snapshot stuck longer than N minutes"),
                            ("error", "A snapshot entering error"),
                            ("quota", "A project over X % of its snapshot quota"),
                            ("cloud_down", "The cloud unreachable for N minutes"),
                            ("audit_chain", "The audit chain broken"),
                        ],
                        max_length=16,
                    ),
                ),
                ("threshold", models.FloatField(default=0)),
                ("enabled", models.BooleanField(default=True)),
                ("emails", models.CharField(blank=True, max_length=1000)),
                ("digest_minutes", models.PositiveIntegerField(default=0)),
                ("last_digest_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("updated_by", models.CharField(blank=True, max_length=255)),
            ],
            options={
                "ordering": ["name"],
            },
        ),
        migrations.CreateModel(
            name="AuditEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                ("actor_id", models.CharField(blank=True, max_length=64)),
                ("actor_name", models.CharField(db_index=True, max_length=255)),
                ("project_id", models.CharField(blank=True, db_index=True, max_length=64)),
                ("action", models.CharField(db_index=True, max_length=64)),
                ("target_id", models.CharField(blank=True, db_index=True, max_length=64)),
                ("target_name", models.CharField(blank=True, max_length=255)),
                ("parameters", models.JSONField(blank=True, default=dict)),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("success", "Succeeded"),
                            ("refused", "Refused by Cinder"),
                            ("denied", "Denied by the dashboard"),
                            ("failed", "Failed (cloud unreachable)"),
                            ("unknown", "Unknown (being checked)"),
                        ],
                        db_index=True,
                        max_length=16,
                    ),
                ),
                ("status_code", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("message", models.TextField(blank=True)),
                ("request_id", models.CharField(blank=True, max_length=128)),
                ("client_addr", models.GenericIPAddressField(blank=True, null=True)),
                ("prev_hash", models.CharField(blank=True, max_length=64)),
                ("hash", models.CharField(blank=True, max_length=64)),
                ("key_id", models.CharField(blank=True, default="", max_length=32)),
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="CloudState",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("reachable", models.BooleanField(default=True)),
                ("last_sync_started_at", models.DateTimeField(blank=True, null=True)),
                ("last_sync_ok_at", models.DateTimeField(blank=True, null=True)),
                ("last_sync_summary", models.CharField(blank=True, max_length=255)),
                ("last_error", models.TextField(blank=True)),
                ("last_error_at", models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.CreateModel(
            name="DetectState",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("watermark", models.DateTimeField(blank=True, null=True)),
                ("unexplained_count", models.BigIntegerField(blank=True, null=True)),
                ("stuck_listed", models.JSONField(blank=True, default=dict)),
                ("sweep_phase", models.CharField(blank=True, max_length=16)),
                ("sweep_marker", models.CharField(blank=True, max_length=64)),
                ("sweep_key", models.JSONField(blank=True, default=list)),
                ("sweep_started_at", models.DateTimeField(blank=True, null=True)),
                ("sweep_finished_at", models.DateTimeField(blank=True, null=True)),
            ],
        ),
        migrations.CreateModel(
            name="Heartbeat",
            fields=[
                ("name", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("beat_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("detail", models.CharField(blank=True, max_length=255)),
            ],
        ),
        migrations.CreateModel(
            name="ListenerState",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("connected", models.BooleanField(default=False)),
                ("heartbeat_at", models.DateTimeField(blank=True, null=True)),
                ("last_event_at", models.DateTimeField(blank=True, null=True)),
                ("events", models.PositiveBigIntegerField(default=0)),
                ("last_error", models.CharField(blank=True, max_length=255)),
                ("started_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.CreateModel(
            name="Operation",
            fields=[
                ("key", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("actor_id", models.CharField(max_length=64)),
                ("action", models.CharField(max_length=64)),
                ("subject", models.CharField(blank=True, max_length=64)),
                ("project_id", models.CharField(blank=True, max_length=64)),
                ("target_id", models.CharField(blank=True, max_length=64)),
                ("state", models.CharField(default="running", max_length=16)),
                ("event_id", models.BigIntegerField(blank=True, db_index=True, null=True)),
                ("request", models.JSONField(blank=True, default=dict)),
                ("message", models.TextField(blank=True)),
                (
                    "created_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("result", models.JSONField(blank=True, default=dict)),
            ],
        ),
        migrations.CreateModel(
            name="Project",
            fields=[
                ("id", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("name", models.CharField(blank=True, max_length=255)),
                ("domain_id", models.CharField(blank=True, max_length=64)),
                ("last_seen", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "ordering": ["name"],
            },
        ),
        migrations.CreateModel(
            name="ProjectQuota",
            fields=[
                ("project_id", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("snapshots_limit", models.IntegerField(default=-1)),
                ("snapshots_used", models.IntegerField(default=0)),
                ("gigabytes_limit", models.IntegerField(default=-1)),
                ("gigabytes_used", models.IntegerField(default=0)),
                ("volumes_limit", models.IntegerField(default=-1)),
                ("volumes_used", models.IntegerField(default=0)),
                ("refreshed_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.CreateModel(
            name="ThrottleCounter",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=80, unique=True)),
                ("count", models.PositiveIntegerField(default=0)),
                ("expires_at", models.DateTimeField(db_index=True)),
            ],
        ),
        migrations.CreateModel(
            name="TickSlot",
            fields=[
                ("name", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("period", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name="UserMessage",
            fields=[
                ("id", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("project_id", models.CharField(blank=True, max_length=64)),
                ("resource_type", models.CharField(blank=True, max_length=64)),
                ("resource_uuid", models.CharField(blank=True, db_index=True, max_length=64)),
                ("event_id", models.CharField(blank=True, max_length=128)),
                ("user_message", models.TextField(blank=True)),
                ("message_level", models.CharField(blank=True, max_length=32)),
                ("request_id", models.CharField(blank=True, max_length=128)),
                ("created_at", models.DateTimeField(blank=True, null=True)),
                ("fetched_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "ordering": ["-created_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="Volume",
            fields=[
                ("id", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("project_id", models.CharField(db_index=True, max_length=64)),
                ("name", models.CharField(blank=True, max_length=255)),
                ("size", models.PositiveIntegerField(default=0)),
                ("status", models.CharField(blank=True, max_length=32)),
                ("availability_zone", models.CharField(blank=True, max_length=255)),
                ("volume_type", models.CharField(blank=True, max_length=255)),
                ("bootable", models.BooleanField(default=False)),
                ("attachments", models.PositiveIntegerField(default=0)),
                ("snapshot_id", models.CharField(blank=True, db_index=True, max_length=64)),
                ("created_at", models.DateTimeField(blank=True, null=True)),
                ("first_seen", models.DateTimeField(default=django.utils.timezone.now)),
                ("last_seen", models.DateTimeField(default=django.utils.timezone.now)),
                ("deleted_at", models.DateTimeField(blank=True, db_index=True, null=True)),
            ],
            options={
                "ordering": ["name", "id"],
            },
        ),
        migrations.CreateModel(
            name="Webhook",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100, unique=True)),
                ("url", models.URLField(max_length=500)),
                ("secret", models.CharField(max_length=200)),
            ],
            options={
                "ordering": ["name"],
            },
        ),
        migrations.CreateModel(
            name="WorkerLock",
            fields=[
                ("name", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("owner", models.CharField(blank=True, max_length=128)),
                ("expires_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.CreateModel(
            name="AlertFiring",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("subject", models.CharField(max_length=128)),
                ("subject_name", models.CharField(blank=True, max_length=255)),
                ("message", models.TextField(blank=True)),
                ("started_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("fired_at", models.DateTimeField(blank=True, null=True)),
                ("resolved_at", models.DateTimeField(blank=True, db_index=True, null=True)),
                (
                    "rule",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="firings",
                        to="snapshots.alertrule",
                    ),
                ),
            ],
            options={
                "ordering": ["-started_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="ManageableSnapshot",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("host", models.CharField(db_index=True, max_length=255)),
                ("name", models.CharField(max_length=255)),
                ("reference", models.JSONField(default=dict)),
                ("size", models.PositiveIntegerField(default=0)),
                ("safe_to_manage", models.BooleanField(default=False)),
                ("reason_not_safe", models.CharField(blank=True, max_length=255)),
                ("cinder_id", models.CharField(blank=True, max_length=64)),
                ("source_volume_id", models.CharField(blank=True, max_length=64)),
                ("fetched_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "ordering": ["host", "name"],
                "constraints": [
                    models.UniqueConstraint(fields=("host", "name"), name="manageable_host_name")
                ],
            },
        ),
        migrations.CreateModel(
            name="Snapshot",
            fields=[
                ("id", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("project_id", models.CharField(db_index=True, max_length=64)),
                ("name", models.CharField(blank=True, max_length=255)),
                ("description", models.CharField(blank=True, max_length=255)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("creating", "Creating"),
                            ("available", "Available"),
                            ("deleting", "Deleting"),
                            ("deleted", "Deleted"),
                            ("updating", "Updating"),
                            ("error", "Error"),
                            ("error_deleting", "Error deleting"),
                            ("unmanaging", "Unmanaging"),
                            ("backing-up", "Backing up"),
                            ("restoring", "Restoring"),
                        ],
                        db_index=True,
                        max_length=32,
                    ),
                ),
                ("progress", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("size", models.PositiveIntegerField(db_index=True, default=0)),
                ("volume_id", models.CharField(db_index=True, max_length=64)),
                ("user_id", models.CharField(blank=True, max_length=64)),
                ("group_snapshot_id", models.CharField(blank=True, max_length=64)),
                ("consumes_quota", models.BooleanField(blank=True, null=True)),
                ("metadata", models.JSONField(blank=True, default=dict)),
                ("created_at", models.DateTimeField(db_index=True)),
                ("updated_at", models.DateTimeField(blank=True, db_index=True, null=True)),
                ("volume_name", models.CharField(blank=True, max_length=255)),
                ("project_name", models.CharField(blank=True, max_length=255)),
                ("first_seen", models.DateTimeField(default=django.utils.timezone.now)),
                ("last_seen", models.DateTimeField(default=django.utils.timezone.now)),
                ("deleted_at", models.DateTimeField(blank=True, db_index=True, null=True)),
                ("status_since", models.DateTimeField(default=django.utils.timezone.now)),
                ("stuck_since", models.DateTimeField(blank=True, db_index=True, null=True)),
                ("next_check_at", models.DateTimeField(blank=True, db_index=True, null=True)),
                ("check_interval", models.FloatField(default=0)),
                ("version", models.PositiveBigIntegerField(db_index=True, default=1)),
            ],
            options={
                "ordering": ["-created_at", "id"],
                "indexes": [
                    models.Index(
                        fields=["project_id", "deleted_at", "-created_at"],
                        name="snap_project_created",
                    ),
                    models.Index(fields=["deleted_at", "status"], name="snap_live_status"),
                    models.Index(
                        fields=["deleted_at", "-created_at", "id"], name="snap_live_created"
                    ),
                    models.Index(fields=["name", "id"], name="snap_name"),
                    models.Index(
                        fields=["deleted_at", "project_id", "status", "stuck_since", "size"],
                        name="snap_metrics",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="StatusChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("project_id", models.CharField(db_index=True, max_length=64)),
                ("from_status", models.CharField(blank=True, max_length=32)),
                ("to_status", models.CharField(db_index=True, max_length=32)),
                ("progress", models.PositiveSmallIntegerField(blank=True, null=True)),
                (
                    "observed_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("sync", "Sync"),
                            ("track", "Track"),
                            ("action", "Action"),
                            ("notification", "Notification"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "snapshot",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="status_changes",
                        to="snapshots.snapshot",
                    ),
                ),
            ],
            options={
                "ordering": ["-observed_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="TablePreference",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("table", models.CharField(max_length=64)),
                ("columns", models.JSONField(blank=True, default=list)),
                ("per_page", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="table_preferences",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="alertrule",
            name="webhooks",
            field=models.ManyToManyField(blank=True, related_name="rules", to="snapshots.webhook"),
        ),
        migrations.CreateModel(
            name="AlertDelivery",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("dedup_key", models.CharField(max_length=255, unique=True)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("firing", "Firing"),
                            ("resolved", "Resolved"),
                            ("digest", "Digest"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "channel",
                    models.CharField(
                        choices=[("email", "E-mail"), ("webhook", "Webhook")], max_length=16
                    ),
                ),
                ("target", models.CharField(max_length=500)),
                ("payload", models.JSONField(default=dict)),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("sending", "Sending"),
                            ("retrying", "Retrying"),
                            ("sent", "Sent"),
                            ("failed", "Failed"),
                        ],
                        db_index=True,
                        default="pending",
                        max_length=16,
                    ),
                ),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                (
                    "next_attempt_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                ("last_error", models.CharField(blank=True, max_length=500)),
                (
                    "created_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                (
                    "firing",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="snapshots.alertfiring",
                    ),
                ),
                (
                    "rule",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="snapshots.alertrule",
                    ),
                ),
                (
                    "webhook",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to="snapshots.webhook",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.AddConstraint(
            model_name="alertfiring",
            constraint=models.UniqueConstraint(
                condition=models.Q(("resolved_at__isnull", True)),
                fields=("rule", "subject"),
                name="alert_one_open_firing",
            ),
        ),
        migrations.AddIndex(
            model_name="statuschange",
            index=models.Index(fields=["snapshot", "observed_at"], name="change_snapshot_time"),
        ),
        migrations.AddConstraint(
            model_name="tablepreference",
            constraint=models.UniqueConstraint(
                fields=("user", "table"), name="table_pref_user_table"
            ),
        ),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
        migrations.RunPython(create_history_guard, drop_history_guard),
    ]
