"""Trigram indexes for the list's free-text search, on PostgreSQL only.

The search is a case-insensitive substring match over name, description and id, which Django
writes as `UPPER(col::text) LIKE UPPER('%q%')`: no b-tree helps, so on a large cloud every search
would read the whole table. A GIN trigram index over the same expression lets PostgreSQL find the
matching rows directly. SQLite has no such index; there the search stays a scan.

Creating the extension needs a privileged role: where it is refused, the migration carries on
without the indexes (search still works, only slower) and says so.
"""

from django.db import migrations

COLUMNS = ("name", "description", "id")


def create(apps, schema_editor):
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
        for column in COLUMNS:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS snap_trgm_{column} ON snapshots_snapshot "
                f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for column in COLUMNS:
            cursor.execute(f"DROP INDEX IF EXISTS snap_trgm_{column}")


class Migration(migrations.Migration):
    dependencies = [("snapshots", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
