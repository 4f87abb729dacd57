"""Keyword search: a GIN index over the English text search vector on PostgreSQL; on SQLite
an FTS5 table over the entries' text, kept in step by triggers."""

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE stores_storeentry_fts USING fts5("
    "text, content='stores_storeentry', content_rowid='id')",
    "CREATE TRIGGER stores_storeentry_fts_insert AFTER INSERT ON stores_storeentry BEGIN "
    "INSERT INTO stores_storeentry_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER stores_storeentry_fts_delete AFTER DELETE ON stores_storeentry BEGIN "
    "INSERT INTO stores_storeentry_fts(stores_storeentry_fts, rowid, text) "
    "VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER stores_storeentry_fts_update AFTER UPDATE ON stores_storeentry BEGIN "
    "INSERT INTO stores_storeentry_fts(stores_storeentry_fts, rowid, text) "
    "VALUES ('delete', old.id, old.text); "
    "INSERT INTO stores_storeentry_fts(rowid, text) VALUES (new.id, new.text); END",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS stores_storeentry_fts_update",
    "DROP TRIGGER IF EXISTS stores_storeentry_fts_delete",
    "DROP TRIGGER IF EXISTS stores_storeentry_fts_insert",
    "DROP TABLE IF EXISTS stores_storeentry_fts",
]
# the expression Django's SearchVector("text", config="english") compiles to
POSTGRES = [
    "CREATE INDEX stores_entry_text_search ON stores_storeentry USING gin "
    "(to_tsvector('english'::regconfig, COALESCE(text, '')))"
]
POSTGRES_REVERSE = ["DROP INDEX IF EXISTS stores_entry_text_search"]


def _run(statements):
    def apply(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for sql in statements.get(vendor, []):
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("stores", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        )
    ]
