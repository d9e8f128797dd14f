"""Set-based upsert 批量写入: ``INSERT … ON CONFLICT (natural key) DO UPDATE`` with ``executemany``.

The same statement runs on SQLite (3.24+) and PostgreSQL. It does what
``bulk_create(update_conflicts=True)`` does, without compiling every value through the ORM: that
per-value work capped imports below 10 000 rows/s, while the driver's ``executemany`` loop does not.
Values are prepared once per field kind: plain types go to the driver as they are, any other field
(dates, decimals, encrypted text) through its own ``get_db_prep_save``, so storage stays the ORM's.
"""

from django.db import connections, models
from django.utils import timezone

# Field classes whose Python values the drivers take unchanged (exact classes: a subclass such as
# EncryptedTextField changes the stored form and must go through its own preparation).
PLAIN = {
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.BooleanField,
    models.ForeignKey,
}


class Upsert:
    def __init__(self, model, attnames: list[str], unique: list[str], update: list[str]):
        """Insert ``attnames`` (absent values: the field default); on conflict set ``update`` and updated_at."""
        self.model = model
        self.connection = connections[model._default_manager.db]
        opts = model._meta
        by_attname = {f.attname: f for f in opts.concrete_fields}
        # Columns the file does not carry still get their model default: the table has no DB defaults.
        attnames = attnames + [
            f.attname
            for f in opts.concrete_fields
            if f.attname not in attnames
            and not f.primary_key
            and not f.null
            and f.attname not in ("created_at", "updated_at")
        ]
        self.fields = [by_attname[a] for a in attnames]
        self.attnames = attnames
        self.defaults = [f.get_default() for f in self.fields]
        self.preparers = [None if type(f) in PLAIN else self._preparer(f) for f in self.fields]
        stamp = [f for f in opts.concrete_fields if f.attname in ("created_at", "updated_at")]
        now = timezone.now()
        self.stamps = [f.get_db_prep_save(now, self.connection) for f in stamp]
        quote = self.connection.ops.quote_name
        columns = [f.column for f in self.fields] + [f.column for f in stamp]
        unique_columns = [by_attname[a].column for a in unique]
        updates = [by_attname[a].column for a in update if a not in unique] + [
            f.column for f in stamp if f.attname == "updated_at"
        ]
        self.head = "INSERT INTO {} ({}) VALUES ".format(quote(opts.db_table), ", ".join(quote(c) for c in columns))
        self.placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
        self.tail = " ON CONFLICT ({}) DO UPDATE SET {}".format(
            ", ".join(quote(c) for c in unique_columns),
            ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in updates),
        )
        self.columns_sql = ", ".join(quote(c) for c in columns)
        self.table_sql = quote(opts.db_table)
        self.staged = False
        if self.connection.vendor == "sqlite":
            # SQLite's default 2 MB page cache spills a large import's index pages to the WAL over and over.
            with self.connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size = -131072")  # 128 MiB, this connection only

    def _preparer(self, field):
        connection = self.connection
        return lambda value: field.get_db_prep_save(value, connection)

    def params(self, values: dict) -> list:
        row = []
        for attname, default, prepare in zip(self.attnames, self.defaults, self.preparers, strict=True):
            value = values.get(attname, default)
            row.append(value if prepare is None or value is None else prepare(value))
        return row + self.stamps

    def write(self, rows: list[dict]) -> None:
        if not rows:
            return
        params = [self.params(values) for values in rows]
        with self.connection.cursor() as cursor:
            if self.connection.vendor == "postgresql":
                self._write_copy(cursor, params)
            else:  # SQLite runs executemany in-process, one quick step per row
                cursor.executemany(self.head + self.placeholder + self.tail, params)

    def _write_copy(self, cursor, params: list[list]) -> None:
        """PostgreSQL: COPY into a staging table, then one INSERT … SELECT … ON CONFLICT.

        A round trip per row costs more than the row itself; COPY streams the chunk in one.
        """
        stage = self.connection.ops.quote_name("import_stage_" + self.model._meta.db_table)
        if not self.staged:
            # Same column types, no constraints: the checks happen on the real table's INSERT.
            columns = f"SELECT {self.columns_sql} FROM {self.table_sql} WITH NO DATA"
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DROP AS {columns}")
            self.staged = True
        cursor.execute(f"TRUNCATE {stage}")
        with cursor.cursor.copy(f"COPY {stage} ({self.columns_sql}) FROM STDIN") as copy:
            for row in params:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {self.table_sql} ({self.columns_sql}) SELECT {self.columns_sql} FROM {stage}" + self.tail
        )
