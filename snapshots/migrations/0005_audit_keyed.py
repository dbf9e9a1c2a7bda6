"""Audit chain keyed (key_id on every event), and on PostgreSQL a trigger that refuses UPDATE and
DELETE on the history tables unless the transaction set snapshots.history_write (only the
prune does, through models.audit.privileged_history_writes)."""

from django.db import migrations, models

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


def create_guard(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite: the ORM guard only (its flush in tests deletes rows with DELETE)
    schema_editor.execute(GUARD_FUNCTION, params=None)
    for table in HISTORY_TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION snapshots_history_append_only()"
        )


def drop_guard(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in HISTORY_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS snapshots_history_append_only()")


def key_the_chain(apps, schema_editor):
    """Events from before keying keep their plain hashes; one keyed event now follows them, so
    the chain's head is keyed (verify_chain refuses a chain that ends in plain hashes)."""
    from snapshots.services import audit  # the hashing rules as they are when this runs

    event_model = apps.get_model("snapshots", "AuditEvent")
    head = event_model.objects.order_by("-id").first()
    if head is None or head.key_id:
        return
    from django.conf import settings
    from django.utils import timezone

    event = event_model(
        created_at=timezone.now(),
        actor_name=audit.SYSTEM_ACTOR,
        action=audit.KEYED_ACTION,
        outcome="success",
        message="Audit events from here on are signed with a key kept outside the database.",
        parameters={},
        prev_hash=head.hash,
        key_id=settings.AUDIT_HMAC_KEY_ID,
    )
    event.hash = audit.compute_hash(event)
    event.save(force_insert=True)


class Migration(migrations.Migration):
    dependencies = [
        ("snapshots", "0004_login_throttle"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(blank=True, default="", max_length=32),
        ),
        migrations.RunPython(create_guard, drop_guard),
        migrations.RunPython(key_the_chain, migrations.RunPython.noop),
    ]
