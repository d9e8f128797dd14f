"""Import engine 导入引擎: validate a file against its spec and upsert its rows set-wise.

One pass over the file, in chunks, inside one transaction: each chunk is parsed, its references are
resolved with one query per referenced kind, and its good rows are upserted by natural key
(``writer.Upsert``: INSERT … ON CONFLICT DO UPDATE). Default is all-or-nothing: after the first bad row nothing
more is written but validation goes on to report every bad row, and the transaction is rolled back.
With ``skip_invalid`` good rows are kept and bad rows go to a rejects CSV with an 错误原因 column.
One audit record per import carries the counts and the file's SHA-256.
"""

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from yaojian.core import access, audit
from yaojian.core.choices import AuditAction
from yaojian.core.models import Division

from .parsing import CellError
from .readers import FileRefused, header_of, open_table
from .specs import Spec, get_spec
from .writer import Upsert

CHUNK_ROWS = 5000
REPORT_LIMIT = 10000  # errors kept in the report; the count is always complete


@dataclass
class RowError:
    row: int
    column: str
    value: str
    reason: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}


@dataclass
class ImportResult:
    kind: str
    file_name: str = ""
    sha256: str = ""
    total: int = 0
    created: int = 0
    updated: int = 0
    rejected: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    refused: str = ""  # the whole file was refused: the reason
    imported: bool = False
    audit_seq: int | None = None

    @property
    def ok(self) -> bool:
        return self.imported and not self.refused


class _Rollback(Exception):
    """Leaves the transaction without writing when the import is all-or-nothing and a row is bad."""


@dataclass
class _Row:
    number: int
    raw: list
    values: dict
    keys: dict  # header → parsed reference key, for the resolver
    errors: list[RowError]


def _shown(value) -> str:
    return "" if value is None else str(value)[:200]


class Importer:
    def __init__(self, spec: Spec, *, actor, skip_invalid: bool, job_id: str, rejects_path: Path | None, progress):
        self.spec, self.model = spec, spec.model
        self.actor, self.skip_invalid, self.job_id = actor, skip_invalid, job_id
        self.rejects_path, self.progress = rejects_path, progress
        self.result = ImportResult(spec.kind)
        self.seen: dict[tuple, int] = {}
        self.scope_cache: dict[str, bool] = {}
        self.ref_cache: dict[str, dict] = {}
        self.key_columns = [spec.column(h) for h in spec.key]
        self.unique_fields = [c.field for c in self.key_columns]
        self.key_attnames = [self.model._meta.get_field(f).attname for f in self.unique_fields]
        self.product_header = next((c.header for c in spec.columns if c.ref == "product"), None)
        self.rejects = None

    # -- rows ---------------------------------------------------------------------------------
    def bind_header(self, header: list[str]) -> None:
        known = set(self.spec.headers)
        unknown = [h for h in header if h and h not in known]
        missing = [c.header for c in self.spec.columns if c.required and c.header not in header]
        duplicated = sorted({h for h in header if h and header.count(h) > 1})
        problems = []
        if missing:
            problems.append("缺少必填列：" + "、".join(missing))
        if unknown:
            problems.append("无法识别的列：" + "、".join(unknown[:20]))
        if duplicated:
            problems.append("重复的列：" + "、".join(duplicated))
        if problems:
            raise FileRefused("表头与模板不符（" + "；".join(problems) + "），请下载导入模板")
        self.header = header
        self.positions = [(i, self.spec.column(h)) for i, h in enumerate(header) if h]
        # New rows get defaults for absent columns; stored rows keep them (only columns in the file are updated).
        opts, bookkeeping = self.model._meta, ["division_code", "import_batch"]
        attnames = [opts.get_field(c.field).attname for c in self.spec.columns] + bookkeeping
        present = [opts.get_field(c.field).attname for _, c in self.positions] + bookkeeping
        self.upsert = Upsert(self.model, attnames, self.key_attnames, present)

    def parse(self, number: int, cells: list) -> _Row:
        row = _Row(number, cells, {}, {}, [])
        if len(cells) > len(self.header):
            extra = cells[len(self.header)]
            row.errors.append(
                RowError(number, "", _shown(extra), f"字段数（{len(cells)}）多于表头列数（{len(self.header)}）")
            )
            return row
        width = len(cells)
        for i, column in self.positions:
            value = cells[i] if i < width else None
            if value is None or (isinstance(value, str) and not value.strip()):
                if column.required:
                    row.errors.append(RowError(number, column.header, "", "必填项不能为空"))
                continue
            try:
                parsed = column.parse(value)
            except CellError as exc:
                row.errors.append(RowError(number, column.header, _shown(value), exc.args[0]))
                continue
            if column.ref:
                row.keys[column.header] = parsed
            else:
                row.values[column.field] = parsed
        if not row.errors and self.spec.row_check:
            for header, reason in self.spec.row_check(row.values):
                row.errors.append(
                    RowError(number, header, _shown(row.values.get(self.spec.column(header).field)), reason)
                )
        return row

    # -- references, resolved per chunk with one query per kind ---------------------------------
    def _lookup(self, ref: str, keys: set) -> dict:
        from yaojian.inspections.models import Inspection
        from yaojian.registry.models import Batch, Enterprise, Product

        if not keys:
            return {}
        if ref == "division":
            return {
                code: (code, code) for code in Division.objects.filter(code__in=keys).values_list("code", flat=True)
            }
        if ref == "enterprise":
            rows = Enterprise.objects.filter(credit_code__in=keys).values_list("credit_code", "pk", "division_code")
        elif ref == "product":
            rows = Product.objects.filter(approval_number__in=keys).values_list(
                "approval_number", "pk", "division_code"
            )
        elif ref == "inspection":
            rows = Inspection.objects.filter(number__in=keys).values_list("number", "pk", "division_code")
        else:  # batch: keys are (approval number, batch number)
            found = Batch.objects.filter(
                product__approval_number__in={k[0] for k in keys}, batch_number__in={k[1] for k in keys}
            ).values_list("product__approval_number", "batch_number", "pk", "division_code")
            return {(a, b): (pk, div) for a, b, pk, div in found}
        return {key: (pk, div) for key, pk, div in rows}

    def resolve(self, rows: list[_Row]) -> None:
        wanted: dict[str, set] = {}
        for row in rows:
            for header, key in row.keys.items():
                column = self.spec.column(header)
                if column.ref == "batch":
                    product = row.keys.get(self.product_header)
                    if product is None:
                        row.errors.append(RowError(row.number, header, _shown(key), "填写批号时须同时填写产品批准文号"))
                        row.keys[header] = None
                        continue
                    key = row.keys[header] = (product, key)
                wanted.setdefault(column.ref, set()).add(key)
        # References repeat across chunks: only keys not met before are looked up (misses are kept too).
        found = self.ref_cache
        for ref, keys in wanted.items():
            known = found.setdefault(ref, {})
            unseen = {k for k in keys if k not in known}
            hits = self._lookup(ref, unseen)
            known.update({k: hits.get(k) for k in unseen})
        for row in rows:
            for header, key in row.keys.items():
                if key is None:
                    continue  # already reported
                column = self.spec.column(header)
                hit = found[column.ref].get(key)
                if hit is None:
                    row.errors.append(RowError(row.number, header, _shown(_display(key)), _missing(column.ref)))
                    continue
                row.values[self.model._meta.get_field(column.field).attname] = hit[0]
                if header == self.spec.division_from:
                    row.values["division_code"] = hit[1]

    def in_scope(self, code: str) -> bool:
        if code not in self.scope_cache:
            self.scope_cache[code] = access.division_in_scope(self.actor, code)
        return self.scope_cache[code]

    def check_rows(self, rows: list[_Row]) -> None:
        """Jurisdiction and duplicate natural keys (after references are resolved)."""
        for row in rows:
            if row.errors:
                continue
            code = row.values.get("division_code", "")
            if not self.in_scope(code):
                header = self.spec.division_from
                row.errors.append(RowError(row.number, header, _shown(row.keys.get(header)), "超出本人辖区范围"))
                continue
            key = tuple(row.values[a] for a in self.key_attnames)
            first = self.seen.setdefault(key, row.number)
            if first != row.number:
                shown = "、".join(
                    _shown(_display(row.keys.get(c.header, row.values.get(c.field)))) for c in self.key_columns
                )
                row.errors.append(RowError(row.number, "、".join(self.spec.key), shown, f"与第{first}行的唯一标识重复"))

    def existing(self, rows: list[_Row]) -> dict[tuple, str]:
        """Natural keys of these rows already stored, with their division (one query)."""
        if not rows:
            return {}
        first = self.key_attnames[0]
        wanted = {tuple(r.values[a] for a in self.key_attnames) for r in rows}
        stored = self.model._default_manager.filter(**{f"{first}__in": {k[0] for k in wanted}})
        found = {}
        for values in stored.values_list(*self.key_attnames, "division_code"):
            if values[:-1] in wanted:
                found[values[:-1]] = values[-1]
        return found

    # -- chunks ---------------------------------------------------------------------------------
    def chunk(self, rows: list[_Row]) -> None:
        self.resolve(rows)
        self.check_rows(rows)
        good = [r for r in rows if not r.errors]
        stored = self.existing(good)
        for row in good:
            code = stored.get(tuple(row.values[a] for a in self.key_attnames))
            if code is not None and not self.in_scope(code):
                row.errors.append(
                    RowError(row.number, "、".join(self.spec.key), "", "已有记录不在本人辖区内，不能覆盖")
                )
        bad = [r for r in rows if r.errors]
        self.report(bad)
        good = [r for r in good if not r.errors]
        if self.result.error_count and not self.skip_invalid:
            return  # all-or-nothing: keep validating, stop writing
        for row in good:
            row.values["import_batch"] = self.job_id
        self.upsert.write([r.values for r in good])
        updated = sum(1 for r in good if tuple(r.values[a] for a in self.key_attnames) in stored)
        self.result.updated += updated
        self.result.created += len(good) - updated

    def report(self, bad: list[_Row]) -> None:
        for row in bad:
            self.result.rejected += 1
            self.result.error_count += len(row.errors)
            room = REPORT_LIMIT - len(self.result.errors)
            if room > 0:
                self.result.errors.extend(row.errors[:room])
            if self.rejects is not None:
                reasons = "；".join(f"{e.column + '：' if e.column else ''}{e.reason}" for e in row.errors)
                self.rejects.writerow([_shown(v) for v in row.raw] + [reasons])

    def run(self, path: Path) -> ImportResult:
        table = open_table(path)
        self.result.sha256, self.result.total = table.sha256, table.total_rows
        rows_iter, header = header_of(table)
        self.bind_header(header)
        handle = None
        if self.skip_invalid and self.rejects_path:
            handle = open(self.rejects_path, "w", encoding="utf-8-sig", newline="")
            self.rejects = csv.writer(handle)
            self.rejects.writerow([*header, "错误原因"])
        try:
            with transaction.atomic():
                done, chunk = 0, []
                for number, cells in rows_iter:
                    if not any(c not in (None, "") for c in cells):
                        continue  # blank lines are not rows
                    chunk.append(self.parse(number, cells))
                    if len(chunk) >= CHUNK_ROWS:
                        self.chunk(chunk)
                        done += len(chunk)
                        chunk = []
                        self._progress(done)
                self.chunk(chunk)
                done += len(chunk)
                self.result.total = done
                self._progress(done)
                if self.result.error_count and not self.skip_invalid:
                    raise _Rollback
                if self.spec.after_write:
                    self.spec.after_write(self.job_id)
                self.result.imported = True
                self.audit(path)
                self.announce()
        except _Rollback:
            self.result.created = self.result.updated = 0
        finally:
            if handle:
                handle.close()
        return self.result

    def _progress(self, done: int) -> None:
        if self.progress:
            self.progress(done, max(self.result.total, done))

    def audit(self, path: Path) -> None:
        r = self.result
        rec = audit.record(
            actor=self.actor,
            action=AuditAction.IMPORT,
            object_type=self.model._meta.label_lower,
            object_id=self.job_id,
            object_repr=f"批量导入{self.spec.title} {r.file_name or path.name}"[:200],
            after={
                "rows": r.created + r.updated,
                "created": r.created,
                "updated": r.updated,
                "rejected": r.rejected,
                "sha256": r.sha256,
                "file": r.file_name or path.name,
            },
        )
        r.audit_seq = rec.seq

    def announce(self) -> None:
        """Name the enterprises whose records this import wrote, once it commits (risk portrait update).

        Every written row carries this job's ``import_batch``, so one grouped query per scope field finds them.
        """
        from yaojian.core.services import notify_changed

        written = self.model._default_manager.filter(import_batch=self.job_id)
        is_enterprise = self.model._meta.label_lower == "registry.enterprise"
        fields = ("pk",) if is_enterprise else self.model.scope_enterprise_fields
        ids = set()
        for name in fields:
            ids.update(written.order_by().values_list(name, flat=True).distinct())
        notify_changed(self.model, ids)


def _display(key) -> str:
    return "/".join(key) if isinstance(key, tuple) else key


def _missing(ref: str) -> str:
    return {
        "division": "行政区划代码不存在",
        "enterprise": "未找到该统一社会信用代码的企业（请先导入企业）",
        "product": "未找到该批准文号的产品（请先导入产品）",
        "batch": "未找到该产品的此批号（请先导入批次）",
        "inspection": "未找到该检查编号（请先导入检查）",
    }[ref]


def run_import(
    kind: str,
    path: Path,
    *,
    actor=None,
    skip_invalid: bool = False,
    rejects_path: Path | None = None,
    job_id: str = "",
    file_name: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import ``path`` as ``kind``. ``actor=None`` is the system (command line without --user)."""
    spec = get_spec(kind)
    job_id = job_id or "cli-" + timezone.now().strftime("%Y%m%d%H%M%S%f")
    importer = Importer(
        spec, actor=actor, skip_invalid=skip_invalid, job_id=job_id, rejects_path=rejects_path, progress=progress
    )
    importer.result.file_name = file_name or Path(path).name
    if actor is not None and not access.has_perm(actor, spec.model, access.ADD):
        importer.result.refused = f"无权导入{spec.title}"
        return importer.result
    try:
        return importer.run(Path(path))
    except FileRefused as exc:
        importer.result.refused = exc.args[0]
        importer.result.imported = False
        importer.result.created = importer.result.updated = 0
        return importer.result
