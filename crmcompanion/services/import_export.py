"""Import and export use cases: CSV and vCard import with a preview step, CSV/vCard/iCalendar
export, and undo of the last import.

The flow the import wizard (and `crmcompanion import`) follows:

1. `preview(path, mapping, date_order)` reads the whole file without writing anything and
   returns an `ImportPreview`: format, headers, the mapping used, unknown headers, the first
   rows, every per-row problem (line, column, reason), whether the date order is ambiguous,
   and the customers already in the database that rows match. Its `plan` is what `run` takes:
   it holds the valid rows, parsed and checked once, in a staging file (`store.staging`).
2. `run(plan, skip_invalid, merge_duplicates, progress, cancel)` imports in ONE transaction:
   all valid rows or nothing. A rejected row writes nothing unless `skip_invalid`; a cancel
   (the `CancelToken`) or any error rolls everything back, so the database is as it was.
   Rows matching an existing customer (same source UID, else email, else E.164 phone) are
   skipped and reported, or merged into that customer when `merge_duplicates` is chosen; the
   match is made against the database as it is at the run. Rows repeating an earlier row of
   the file are skipped (never merged). A file changed since the preview is read again.
3. The customers an import created are remembered (`import_batches`), so `undo_last_import`
   removes exactly them.

Both `progress(done, total)` and `cancel` are plain callables/objects with no Qt in them: the
GUI runs `run` on a worker thread, forwards progress by signal and sets the token on Cancel.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache, partial
from pathlib import Path
from typing import Final

from sqlalchemy import delete as sa_delete
from sqlalchemy.orm import Session

from crmcompanion.core import csv_import, import_text
from crmcompanion.core.atomic_file import check_input_file, plan_output, replaced_atomically
from crmcompanion.core.csv_codec import OWN_HEADERS
from crmcompanion.core.csv_export import (
    ExportOptions,
    encode_customers,
    export_lines,
)
from crmcompanion.core.customer import CustomerDraft, PhoneNumber
from crmcompanion.core.customer_values import (
    CustomerValues,
    EmailValues,
    PhoneValues,
    draft_of,
    values_of,
)
from crmcompanion.core.date_parsing import DateOrder
from crmcompanion.core.dates import validate_month_day
from crmcompanion.core.errors import DomainError, ValidationError
from crmcompanion.core.icalendar_export import (
    TouchpointEvent,
    export_icalendar,
    yearly_events_for_customer,
)
from crmcompanion.core.occasions import Occasion
from crmcompanion.core.settings import ALL_SETTINGS, DEFAULT_REGION
from crmcompanion.core.text import digits
from crmcompanion.core.validation import (
    MAX_NOTES_LENGTH,
    MAX_TAG_LENGTH,
    clean_tags,
    email_problem,
    is_plain_email,
    names_ok,
    normalise_email,
    normalise_phone,
    validate_customer,
)
from crmcompanion.core.vcard import (
    VCardVersion,
    read_vcard_file,
    vcard_for,
)
from crmcompanion.infra import forking
from crmcompanion.services.cancel import CancelToken
from crmcompanion.services.changes import Changed
from crmcompanion.services.settings import SettingsService
from crmcompanion.services.touchpoints import TouchpointService
from crmcompanion.store import bulk, export_cells, search_aside, staging, transfer
from crmcompanion.store import customers as repo
from crmcompanion.store import models as m
from crmcompanion.store import touchpoints as tp_repo
from crmcompanion.store.bulk import paused_gc
from crmcompanion.store.customers import ListQuery
from crmcompanion.store.database import Database, utcnow
from crmcompanion.store.staging import StagingFile

logger = logging.getLogger(__name__)

BATCH_SIZE: Final = 5000  # rows per bulk insert and duplicate query
# Rows per batch the preview checks and stages. Small, for the forked staging writer: it
# waits for the first batch and the reader waits for it to write the last one, ~0.1 s each
# at 5,000 rows (measured on 100,000: preview 2.6 s at 5,000, 2.25 s at 1,000 or 500).
PREVIEW_BATCH_SIZE: Final = 1000
BIG_LOAD: Final = 10_000  # rows from which loading an empty database skips the WAL
CHILD_STAGING_BYTES: Final = 2 << 20  # files from which a forked child writes the staging
# A spawned interpreter spends ~0.07 s starting first: worth it from about 4 MB (~14,000 rows).
SPAWNED_STAGING_BYTES: Final = 4 << 20
# From this many stored customers a whole-table CSV export is shared with a forked child.
FORKED_EXPORT_AT = 20_000
# Where the process may not fork: from this many a spawned interpreter encodes the upper half
# of a whole-table export (it starts ~0.1 s later: store.export_cells imports no ORM).
SPAWNED_EXPORT_AT = 30_000
EXPORT_TICK = 5000  # customers between two progress reports / cancel checks of an export
PREVIEW_ROWS: Final = 20
MAX_REPORTED: Final = 1000  # problems and duplicates kept in a preview/result (counts are exact)
LEAP_DAY_SETTING: Final = "touchpoints.leap_day_policy"

ProgressCallback = Callable[[int, int], None]
_ALL: Final = ListQuery(archived=None)
_DEFAULT_OPTIONS: Final = ExportOptions()


class CsvFormat:
    CSV = "csv"
    VCARD = "vcard"


class ImportCancelled(DomainError):
    """The user cancelled; nothing was written."""


class NothingToImport(DomainError):
    """The file holds no row that can be imported (none, or all rejected); nothing written."""


class ImportRejected(DomainError):
    """Rows were rejected and `skip_invalid` was not chosen; nothing was written."""

    def __init__(self, result: ImportResult) -> None:
        self.result = result
        first = result.rejected[0] if result.rejected else None
        where = f" (first: line {first.line}, {first.column or 'row'}: {first.reason})" if first \
            else ""
        super().__init__(
            f"{result.rejected_count} row(s) cannot be imported{where}; nothing was written. "
            "Fix the file or skip invalid rows.")


@dataclass(frozen=True)
class RowProblem:
    """One problem: 1-based `line` of the file, `column` header ("" = whole row), `reason`.

    `fatal` problems concern the whole file (no usable header, ambiguous date order): even
    `skip_invalid` cannot import around them.
    """

    line: int
    column: str
    reason: str
    code: str = ""
    fatal: bool = False
    row: int = 0  # the line the problem's row starts on, when `line` is a later line of it

    def __post_init__(self) -> None:
        # Problems reach terminals and dialogs: text from the file is never echoed raw.
        object.__setattr__(self, "column", import_text.printable(self.column, 500))
        object.__setattr__(self, "reason", import_text.printable(self.reason, 500))

    def as_json(self) -> dict[str, object]:
        return {"line": self.line, "column": self.column, "reason": self.reason}


@dataclass(frozen=True)
class DuplicateMatch:
    """A row that matches a customer already stored (or an earlier row of the same file)."""

    line: int
    customer_id: int | None  # None: an earlier row of the file (not yet stored)
    customer_name: str
    matched_on: str  # "uid", "email", "phone"
    value: str


@dataclass(frozen=True)
class ImportPlan:
    """Everything `run` needs; made by `preview` (the wizard may change nothing in it)."""

    path: str
    format: str  # CsvFormat
    mapping: tuple[tuple[str, str | None], ...] = ()
    date_order: DateOrder | None = None
    region: str = "US"
    row_count: int = 0
    report: csv_import.ImportReport | None = field(default=None, repr=False, compare=False)
    # The rows the preview parsed and checked, staged for `run` (read again if the file
    # changed since, or when there are none).
    staged: _Staged | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class ImportPreview:
    plan: ImportPlan
    format: str  # "csv" or "vcard"
    recognised: str  # csv_import.Format value, or "vcard"
    headers: tuple[str, ...]
    mapping: tuple[tuple[str, str], ...]  # (header, target) actually used
    unknown_headers: tuple[str, ...]  # ignored unless mapped
    first_rows: tuple[CustomerDraft, ...]
    problems: tuple[RowProblem, ...]
    problem_count: int
    date_order: DateOrder | None
    date_order_ambiguous: bool
    row_count: int
    duplicates: tuple[DuplicateMatch, ...]
    duplicate_count: int
    # (header, "email" or "phone"): ignored columns that hold email addresses or phone
    # numbers, which the import would leave behind unless they are mapped.
    unimported_contacts: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        """Importable without skipping anything."""
        return self.problem_count == 0

    @property
    def fatal(self) -> bool:
        return self.date_order_ambiguous or any(p.fatal for p in self.problems)


@dataclass(frozen=True)
class ImportResult:
    rows: int
    created: int
    skipped_duplicates: int
    merged: int
    rejected: tuple[RowProblem, ...]
    rejected_count: int
    duplicates: tuple[DuplicateMatch, ...]
    written: bool
    batch_id: int | None
    changed: Changed

    def as_json(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "created": self.created,
            "skipped_duplicates": self.skipped_duplicates,
            "rejected": [p.as_json() for p in self.rejected],
            "written": self.written,
        }


@dataclass(frozen=True)
class UndoneImport:
    batch_id: int
    source: str
    removed: int
    changed: Changed
    restored: int = 0  # customers the import had merged rows into, put back as they were
    kept_edited: int = 0  # merged customers edited since the import: left as they are


@dataclass(frozen=True)
class ExportResult:
    path: Path
    count: int


# Header for a validation field, for the own format ("emails.0" -> "Emails").
_FIELD_HEADERS: Final = {
    "emails": OWN_HEADERS["emails"], "phones": OWN_HEADERS["phones"],
    "special_dates": OWN_HEADERS["special_dates"], "tags": OWN_HEADERS["tags"],
    "notes": OWN_HEADERS["notes"], "first_name": OWN_HEADERS["first_name"],
    "last_name": OWN_HEADERS["last_name"], "display_name": OWN_HEADERS["display_name"],
    "company": OWN_HEADERS["company"], "customer_since": OWN_HEADERS["customer_since"],
    "source_uid": OWN_HEADERS["source_uid"], "address": OWN_HEADERS["street"],
    "birthday": OWN_HEADERS["birthday"],
    "wedding_anniversary": OWN_HEADERS["wedding_anniversary"],
}
_FATAL_CODES: Final = frozenset({"empty_file", "unknown_format", "missing_header",
                                 "duplicate_header", "encoding", "ambiguous_date_order",
                                 "bad_header"})


class _Problems(list[RowProblem]):
    """The first MAX_REPORTED problems, `count` of them all, and `rows`, the rows they refuse
    (a row's problems come one after another): a file of a million bad rows must not keep a
    million problems in memory."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.rows = 0
        self._last_row = -1

    def append(self, problem: RowProblem) -> None:
        self.count += 1
        row = problem.row or problem.line
        if row != self._last_row:
            self.rows += 1
            self._last_row = row
        if len(self) < MAX_REPORTED:
            super().append(problem)

    def extend(self, problems: Iterable[RowProblem]) -> None:
        for problem in problems:
            self.append(problem)


@dataclass
class _Staged:
    """An import's rows, read and checked once, waiting in a staging file for `run`."""

    file: StagingFile
    stamp: tuple[int, int]  # the source file's (size, mtime_ns) before it was read
    rows: int = 0  # valid rows staged (row numbers 1..rows)
    problems: _Problems = field(default_factory=_Problems)  # rows left out, and why
    fatal: tuple[RowProblem, ...] = ()  # the file as a whole cannot be imported
    # The rows' "Last contact" (the app's own export): file line and UTC minute since the
    # epoch, as compact arrays (a million rows of them are 16 MB, not ~150 as tuples).
    contact_lines: array[int] = field(default_factory=lambda: array("q"))
    contact_minutes: array[int] = field(default_factory=lambda: array("q"))

    def add(self, batch: Sequence[_Row]) -> None:
        self.file.add([(row.line, row.values) for row in batch])  # type: ignore[misc]
        self.rows += len(batch)
        for row in batch:
            if row.last_contact is not None:
                self.contact_lines.append(row.line)
                self.contact_minutes.append((row.last_contact - _EPOCH) // _MINUTE)

    def usable(self, path: str) -> bool:
        """The source file is as it was when staged (and the staging file is still there)."""
        return self.stamp != (-1, -1) and csv_import.file_stamp(path) == self.stamp \
            and self.file.exists


@dataclass
class _StreamedPreview:
    """What `_preview_csv` gathered while pass 1 read the file."""

    staged: _Staged
    report: csv_import.ImportReport = field(default=None)  # type: ignore[assignment]
    complete: bool = False  # False: pass 1 parsed no rows (no usable header): old path
    first_rows: list[CustomerDraft] = field(default_factory=list)
    first_lines: list[int] = field(default_factory=list)


class _Aborted(Exception):
    """Internal: roll the transaction back (dry run, or rejected rows)."""


@dataclass
class _Row:
    line: int
    values: CustomerValues | None  # validated; None: a staged row, known by its keys only
    # The duplicate keys (source UID, lowercased emails, E.164 phone digits), computed once:
    # the matcher needs them up to four times per row.
    match_keys: tuple[str, list[str], list[str]] | None = None
    staged_row: int = 0  # its row number in the staging file
    last_contact: datetime | None = None  # naive UTC (csv_import.ParsedRow.last_contact)

    def keys(self) -> tuple[str, list[str], list[str]]:
        if self.match_keys is None:
            assert self.values is not None
            self.match_keys = _Matcher.keys(self.values)
        return self.match_keys


class ImportExportService:
    def __init__(self, db: Database, settings: SettingsService, staff_id: int | None,
                 clock_now: Callable[[], datetime] = utcnow,
                 touchpoints: TouchpointService | None = None,
                 refresh_segments: Callable[[], object] | None = None) -> None:
        self._db = db
        # Brings the stored health segments up to date before an export that has their
        # columns (services.insights.refresh); None: exported as stored.
        self._refresh_segments = refresh_segments
        self._settings = settings
        self._staff_id = staff_id
        self._now = clock_now
        # Upcoming touchpoints for `export_ics(days=...)`; None exports only yearly dates.
        self._touchpoints = touchpoints

    # --- preview ----------------------------------------------------------------------
    def preview(self, path: str | os.PathLike[str], mapping: Mapping[str, str | None] | None = None,
                date_order: DateOrder | str | None = None, *, format: str | None = None,
                find_duplicates: bool = True) -> ImportPreview:
        """Read the file (nothing is written) and report what an import would do."""
        path = os.fspath(path)
        check_input_file(path)  # a folder, a device, /proc/self/mem: one sentence, no work
        if _looks_binary(path):
            raise DomainError(f"{path}: this is not a text file (CSV or vCard expected).")
        fmt = format or _guess_format(path)
        region = self._settings.get(DEFAULT_REGION)
        order = DateOrder(date_order) if date_order else None
        if fmt == CsvFormat.VCARD:
            plan = ImportPlan(path, fmt, (), None, region)
            headers: tuple[str, ...] = ()
            used: tuple[tuple[str, str], ...] = ()
            unknown: tuple[str, ...] = ()
            recognised = "vcard"
            ambiguous = False
        elif fmt == CsvFormat.CSV:
            streamed = self._preview_csv(path, mapping, order, region)
            report = streamed.report
            if streamed.complete:
                # Pass 1 already validated and staged every row: no second read of the file.
                staged = streamed.staged
                duplicate_count, duplicates = self._staged_duplicates(staged) \
                    if find_duplicates and not staged.fatal else (0, [])
                plan = ImportPlan(path, fmt, tuple((mapping or {}).items()), report.date_order,
                                  region, report.row_count, report, staged)
                problems = [*staged.fatal] if staged.fatal else staged.problems
                problem_count = max(len(problems), report.issue_count) if staged.fatal \
                    else staged.problems.count
                return ImportPreview(
                    plan=plan, format=fmt, recognised=report.format, headers=report.headers,
                    mapping=report.mapped_columns, unknown_headers=report.ignored_headers,
                    first_rows=() if staged.fatal else tuple(streamed.first_rows),
                    problems=tuple(problems[:MAX_REPORTED]), problem_count=problem_count,
                    date_order=report.date_order,
                    date_order_ambiguous=report.date_order_ambiguous,
                    row_count=report.row_count,
                    duplicates=tuple(duplicates), duplicate_count=duplicate_count,
                    unimported_contacts=report.suspicious_columns,
                )
            plan = ImportPlan(path, fmt, tuple((mapping or {}).items()), report.date_order,
                              region, report.row_count, report)
            headers, used, unknown = report.headers, report.mapped_columns, report.ignored_headers
            recognised = report.format
            ambiguous = report.date_order_ambiguous
            order = report.date_order
        else:
            raise DomainError(f"Unknown import format “{fmt}”: use csv or vcard.")

        first_rows: list[CustomerDraft] = []

        def on_batch(batch: list[_Row]) -> None:
            for row in batch[:PREVIEW_ROWS - len(first_rows)]:
                first_rows.append(draft_of(row.values))  # type: ignore[arg-type]

        staged = self._stage(plan, on_batch)
        duplicate_count, duplicates = self._staged_duplicates(staged) if find_duplicates \
            else (0, [])
        rejected = [*staged.problems, *staged.fatal]
        problem_count = staged.problems.count + len(staged.fatal)
        if plan.report is not None and staged.fatal:
            problem_count = max(problem_count, plan.report.issue_count)
        rows = staged.rows
        if plan.format == CsvFormat.VCARD:
            rows += problem_count
            plan = replace(plan, row_count=rows)
        plan = replace(plan, staged=staged)
        return ImportPreview(
            plan=plan, format=fmt, recognised=recognised, headers=headers, mapping=used,
            unknown_headers=unknown, first_rows=tuple(first_rows),
            problems=tuple(rejected[:MAX_REPORTED]), problem_count=problem_count,
            date_order=order, date_order_ambiguous=ambiguous,
            row_count=plan.row_count or rows, duplicates=tuple(duplicates),
            duplicate_count=duplicate_count,
            unimported_contacts=plan.report.suspicious_columns if plan.report else (),
        )

    def _staging_file(self, source: str) -> StagingFile:
        """A new staging file in the database's scratch folder (`<data>/tmp`, beside the
        database: the disk that will hold these rows anyway, where the system's temporary
        folder may be a small RAM disk; swept at the next start if this process is killed, see
        store.scratch), written by a second process when the source file is big enough to gain
        from it: forked where this process may fork, else spawned (see staging._ChildWriter),
        which starts slower."""
        try:
            size = os.path.getsize(source)
        except OSError:
            size = 0
        in_child = (size >= CHILD_STAGING_BYTES and forking.can_fork()) or (
            size >= SPAWNED_STAGING_BYTES and forking.can_spawn())
        return StagingFile(self._db.scratch.folder(), in_child=in_child)

    def _stage(self, plan: ImportPlan, on_batch: Callable[[list[_Row]], None] | None = None,
               cancel: CancelToken | None = None) -> _Staged:
        """Read, check and stage the plan's file (vCard, or CSV in two passes)."""
        staged = _Staged(self._staging_file(plan.path), csv_import.file_stamp(plan.path))
        try:
            try:
                with paused_gc():
                    for batch in self._rows(plan, staged.problems):
                        if cancel is not None and cancel.cancelled:
                            raise ImportCancelled("Import cancelled; nothing was written.")
                        staged.add(batch)
                        if on_batch is not None:
                            on_batch(batch)
            except csv_import.CsvImportError as exc:
                staged.fatal = tuple(_problem(i) for i in exc.issues)
            staged.file.finish()
        except BaseException:
            staged.file.discard()
            raise
        return staged

    def _staged_duplicates(self, staged: _Staged) -> tuple[int, list[DuplicateMatch]]:
        """The staged rows matching a stored customer or an earlier row (count, first ones)."""
        if not staged.rows:
            return 0, []
        with bulk.attached(self._db, staged.file.path, staging.SCHEMA, write=False) as session:
            cursor = bulk.staging_cursor(session, staged.file.path)
            with staging.work_tables(cursor):
                return self._match_staged(session, cursor,
                                          lookup=bulk.holds_customers(session))

    def _preview_csv(self, path: str, mapping: Mapping[str, str | None] | None,
                     order: DateOrder | None, region: str) -> _StreamedPreview:
        """Pass 1 (`inspect_csv`) with the preview's work done per batch as it reads: the
        rows' validation problems and first rows, in the order a separate pass over
        `_csv_batches` would give them, and the valid rows staged for `run`."""
        out = _StreamedPreview(_Staged(self._staging_file(path), (-1, -1)))
        staged = out.staged
        today = self._now().date()
        format_seen: list[str] = []
        provisional: set[int] = set()  # lines of rows with dates read day-first for now

        def on_batch(parsed: list[csv_import.ParsedRow],
                     skipped: list[csv_import.ImportIssue]) -> None:
            staged.problems.extend(_problem(i) for i in skipped)
            recognised = format_seen[0] if format_seen else ""
            batch: list[_Row] = []
            for row in parsed:
                if row.provisional:
                    provisional.add(row.line)
                clean = _checked(row.line, row.values, region, staged.problems, recognised,
                                 today)
                if clean is not None:
                    batch.append(_Row(row.line, clean, last_contact=row.last_contact))
            staged.add(batch)
            for row in batch[:PREVIEW_ROWS - len(out.first_rows)]:
                out.first_rows.append(draft_of(row.values))  # type: ignore[arg-type]
                out.first_lines.append(row.line)

        try:
            # The recognised format (for problem column names) is known from the header,
            # before any batch: read it first from the header alone.
            try:
                header = csv_import.inspect_header(path, mapping=mapping)
                format_seen.append(header)
                with paused_gc():  # rows alive: the collector would rescan them
                    out.report = csv_import.inspect_csv(
                        path, mapping=mapping, date_order=order, default_region=region,
                        on_batch=on_batch, batch_size=PREVIEW_BATCH_SIZE)
            except ValueError as exc:  # an unknown field name in the mapping
                raise DomainError(str(exc)) from exc
            report = out.report
            staged.stamp = report.file_stamp
            out.complete = bool(report._targets)
            fatal = [i for i in report.issues if i.code in _FATAL_CODES]
            if fatal:
                staged.fatal = tuple(_problem(i) for i in fatal)
            elif out.complete and order is None and report.date_order not in (None,
                                                                               DateOrder.DMY):
                self._restage_provisional(report, provisional, region, out, today)
            staged.file.finish()
        except BaseException:
            staged.file.discard()
            raise
        if not out.complete:
            staged.file.discard()
        return out

    @staticmethod
    def _restage_provisional(report: csv_import.ImportReport, lines: set[int], region: str,
                             out: _StreamedPreview, today: date) -> None:
        """Rows read before the date order was settled had their slash dates read day-first:
        read them again month-first, and stage and show them as the import will store them."""
        shown = dict(zip(out.first_lines, out.first_rows, strict=True))
        for batch in csv_import.iter_reparsed(report, lines, BATCH_SIZE):
            items: list[tuple[int, CustomerValues]] = []
            for parsed in batch:
                clean = _checked(parsed.line, parsed.values, region, [], report.format, today)
                if clean is not None:
                    items.append((parsed.line, clean))
                    if parsed.line in shown:
                        shown[parsed.line] = draft_of(clean)
            out.staged.file.replace(items)
        out.first_rows = list(shown.values())

    # --- run ---------------------------------------------------------------------------
    def run(self, plan: ImportPlan, skip_invalid: bool = False, merge_duplicates: bool = False,
            progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
            dry_run: bool = False) -> ImportResult:
        """Import in one transaction: every valid row, or nothing.

        Raises ImportRejected (nothing written) when a row is rejected and not `skip_invalid`,
        ImportCancelled when `cancel` is set. With `dry_run` everything is computed, then
        rolled back; the result says `written=False`.

        The rows come from the preview's staging file; the file is read (and staged) again
        only when it changed since the preview. Duplicates are matched against the database
        as it is now, not as it was at the preview.
        """
        if plan.report is not None and plan.report.date_order_ambiguous:
            raise DomainError("The day/month order of the dates is ambiguous: choose day-first "
                              "(dmy) or month-first (mdy).")
        staged = plan.staged
        own = staged is None or not staged.usable(plan.path)
        if own:
            if staged is not None:
                # The file changed since the preview: its date order, columns and problems
                # may have too, so check it again instead of trusting the preview.
                logger.info("%s changed since the preview: checking it again", plan.path)
                plan = replace(plan, report=None)
            staged = self._stage(plan, cancel=cancel)
        assert staged is not None
        try:
            return self._run_staged(plan, staged, skip_invalid, merge_duplicates, progress,
                                    cancel, dry_run)
        finally:
            if own:
                staged.file.discard()

    def _run_staged(self, plan: ImportPlan, staged: _Staged, skip_invalid: bool,
                    merge_duplicates: bool, progress: ProgressCallback | None,
                    cancel: CancelToken | None, dry_run: bool) -> ImportResult:
        total = plan.row_count
        rejected = [*staged.problems, *staged.fatal]
        # Rows, not problems: 20 bad rows are 20 rows rejected however many problems each has.
        rejected_count = staged.problems.rows + len(staged.fatal)
        if staged.fatal:
            skip_invalid = False  # a file-level problem: nothing can be imported
        elif not staged.rows and (skip_invalid or not rejected):
            # Never "Imported 0 customers" for a file that holds nothing importable.
            first = rejected[0] if rejected else None
            raise NothingToImport(
                f"Nothing to import: none of the {rejected_count:,} rows of {plan.path} can be "
                f"imported (first: line {first.line}, {first.column or 'row'}: "
                f"{first.reason})." if first is not None else
                f"Nothing to import: {plan.path} holds no customer rows.")
        written = not (rejected and not skip_invalid) and not dry_run
        merged_ids: set[int] = set()
        outcome: ImportResult | None = None
        now = self._now()

        def cancelled() -> None:
            if cancel is not None and cancel.cancelled:
                raise ImportCancelled("Import cancelled; nothing was written.")

        def after_chunk(done: int) -> None:
            if progress is not None:
                progress(done, total)
            cancelled()

        # Read before the write transaction (a reader could wait on it): the touchpoint rows
        # are built with the data below, not on the first Today read (issue 13).
        tp_settings = (self._touchpoints or TouchpointService(self._db)).settings()
        try:
            # The cyclic collector would rescan every live draft of a batch again and again;
            # nothing built here is cyclic.
            with paused_gc(), ExitStack() as stack:
                into_empty = written and staged.rows >= BIG_LOAD and self._customer_count() == 0
                if into_empty:
                    # Loading an empty database: its pages are written once, not WAL + copy.
                    stack.enter_context(bulk.rollback_journal_if_alone(self._db))
                aside = None
                if written and search_aside.worth_it(staged.rows) and self._db.is_sqlite:
                    try:
                        aside = search_aside.SearchAside(self._db.scratch.folder())
                    except OSError as error:  # no interpreter to spawn: indexed in line
                        logger.warning("Indexing the import's search rows here: %s", error)
                if aside is not None:
                    stack.callback(aside.close)
                    # The loading connection holds the FTS5 structure it last read and the
                    # scratch file attached (see search_aside): closed after the commit or
                    # rollback, before the file goes (callbacks run last-in, first-out).
                    stack.callback(self._db.write_engine.dispose)
                # Into an empty database every row refers to rows written just before it:
                # nothing for the foreign key checks to find (see bulk.attached).
                session = stack.enter_context(bulk.attached(
                    self._db, staged.file.path, staging.SCHEMA, write=True,
                    check_foreign_keys=not into_empty))
                cancelled()
                batch_id = transfer.create_batch(session, now=now, source=plan.path,
                                                 fmt=plan.format, staff_id=self._staff_id)
                first_id = bulk.next_customer_id(session)
                cursor = bulk.staging_cursor(session, staged.file.path)
                stack.enter_context(staging.work_tables(cursor))

                def merge(found: list[DuplicateMatch], rows: list[_Row]) -> None:
                    self._merge(session, cursor, found, rows, now)
                    merged_ids.update(m.customer_id for m in found if m.customer_id)

                duplicate_count, duplicates = self._match_staged(
                    session, cursor, lookup=first_id > 1,  # an empty database matches nothing
                    merge=merge if merge_duplicates else None)
                fresh = staging.number_rows(cursor, first_id)
                if aside is not None and (not search_aside.worth_it(fresh)
                                          or not search_aside.index_is_empty(cursor)):
                    aside = None  # indexed in line (see search_aside)
                if written:
                    # The new customers' touchpoint rows are written with them, final (not
                    # dirty rows for sync_dirty below to update: ~1.5-2 s of 100,000).
                    contacts = bulk.LastContacts(
                        staged.contact_lines, staged.contact_minutes, LAST_CONTACT_SUMMARY,
                        self._staff_id, now) if staged.contact_lines else None
                    bulk.insert_staged(session, staging.SCHEMA, first_id, first_id + fresh - 1,
                                       now, self._staff_id, batch_id, BATCH_SIZE, after_chunk,
                                       aside=aside, stage_path=staged.file.path,
                                       contacts=contacts, rhythm=tp_settings)
                cancelled()
                if written and not fresh and not merged_ids:
                    # It created nobody: no batch, so the next Undo undoes a real import.
                    session.execute(sa_delete(m.ImportBatch).where(m.ImportBatch.id == batch_id))
                    kept_batch: int | None = None
                else:
                    transfer.finish_batch(session, batch_id, staged.rows, fresh)
                    kept_batch = batch_id
                if written:  # the customers merged into (and anything else stale)
                    tp_repo.sync_dirty(session, tp_settings)
                outcome = ImportResult(
                    rows=staged.rows + rejected_count,
                    created=fresh if written or dry_run else 0,
                    skipped_duplicates=duplicate_count if not merge_duplicates else 0,
                    merged=len(merged_ids), rejected=tuple(rejected[:MAX_REPORTED]),
                    rejected_count=rejected_count, duplicates=tuple(duplicates),
                    written=written, batch_id=kept_batch if written else None,
                    changed=Changed(customers=frozenset(merged_ids), customer_list=True,
                                    tags=True) if written else Changed(),
                )
                if not written:
                    raise _Aborted
        except _Aborted:
            assert outcome is not None
            if outcome.rejected and not skip_invalid:
                raise ImportRejected(replace(outcome, created=0)) from None
            return outcome
        assert outcome is not None
        logger.info("Imported %d customers from %s (batch %s)", outcome.created, plan.path,
                    outcome.batch_id)
        if progress is not None:
            progress(total, total)
        return outcome

    @staticmethod
    def _match_staged(session: Session, cursor: sqlite3.Cursor, lookup: bool,
                      merge: Callable[[list[DuplicateMatch], list[_Row]], None] | None = None
                      ) -> tuple[int, list[DuplicateMatch]]:
        """Match the staged rows (attached, with `staging.work_tables`) against the database
        (`lookup`) and earlier rows of the file; the matched rows go to temp.import_dups.
        Returns the number of matches and the first MAX_REPORTED of them. `merge(found, rows)`
        is called after each batch (before the next batch's lookups)."""
        staging.mark_candidates(cursor, lookup)
        matcher = _Matcher()
        count = 0
        duplicates: list[DuplicateMatch] = []
        for keys in staging.iter_keys(cursor, BATCH_SIZE):
            batch = [_Row(line, None, (uid, emails, phones), row)
                     for row, line, uid, emails, phones in keys]
            _, found = matcher.split(session, batch, lookup)
            staging.add_duplicates(cursor, [r.staged_row for r in matcher.last_matched_rows])
            count += len(found)
            duplicates.extend(found[:MAX_REPORTED - len(duplicates)])
            if merge is not None and found:
                merge(found, matcher.last_matched_rows)
        return count, duplicates

    def _customer_count(self) -> int:
        with self._db.read() as session:
            return repo.count_customers(session, _ALL)

    def _merge(self, session: Session, cursor: sqlite3.Cursor, found: list[DuplicateMatch],
               rows: list[_Row], now: datetime) -> None:
        """Merge rows matching a stored customer into it (`_merge_into`)."""
        targets = [(match.customer_id, row) for match, row in zip(found, rows, strict=True)
                   if match.customer_id is not None]
        if not targets:
            return
        drafts = staging.drafts(cursor, [row.staged_row for _, row in targets])  # type: ignore[arg-type]
        for customer_id, row in targets:
            _merge_into(session, customer_id, drafts[row.staged_row], self._staff_id, now)

    def _rows(self, plan: ImportPlan, rejected: list[RowProblem],
              skip_invalid: bool = True) -> Iterator[list[_Row]]:
        """Validated rows in batches; invalid ones go to `rejected` (CsvImportError if the
        file as a whole cannot be read)."""
        region = plan.region
        today = self._now().date()
        if plan.format == CsvFormat.VCARD:
            yield from _vcard_rows(plan.path, region, rejected, today)
            return
        report = plan.report
        if report is not None and not csv_import.file_unchanged(report):
            # The file changed since the preview: its date order, columns and problems may
            # have too, so check it again instead of trusting the preview.
            logger.info("%s changed since the preview: checking it again", plan.path)
            report = None
        if report is None:
            report = csv_import.inspect_csv(plan.path, mapping=dict(plan.mapping),
                                            date_order=plan.date_order, default_region=region)
        fatal = [i for i in report.issues if i.code in _FATAL_CODES]
        if fatal:
            raise csv_import.CsvImportError(tuple(fatal))
        for parsed_batch in _csv_batches(report, rejected):
            out: list[_Row] = []
            for parsed in parsed_batch:
                clean = _checked(parsed.line, parsed.values, region, rejected, report.format,
                                 today)
                if clean is not None:
                    out.append(_Row(parsed.line, clean, last_contact=parsed.last_contact))
            yield out

    # --- undo ------------------------------------------------------------------------
    def undo_last_import(self) -> UndoneImport:
        """Remove the customers the newest not-yet-undone import created."""
        with self._db.write() as session:
            batch = transfer.last_open_batch(session)
            if batch is None:
                raise DomainError("There is no import to undo.")
            ids = transfer.batch_customer_ids(session, batch.id)
            transfer.delete_customers(session, ids)
            batch.undone_at = utcnow()
            result = UndoneImport(batch.id, batch.source, len(ids),
                                  Changed(customers=frozenset(ids), customer_list=True,
                                          tags=True))
        logger.info("Undid import %s: removed %d customers", result.batch_id, result.removed)
        return result

    # --- export ----------------------------------------------------------------------
    def export_csv(self, path: str | os.PathLike[str], query: ListQuery = _ALL,
                   options: ExportOptions = _DEFAULT_OPTIONS,
                   progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None,
                   ids: Sequence[int] | None = None) -> ExportResult:
        """The customer list as filtered/sorted by `query` (or exactly `ids`), streamed to a
        temporary file renamed over `path` (a cancel leaves no file behind).

        A large share of the database is read table by table in id order and put in list
        order afterwards (lines held in memory, see transfer.SCAN_LIMIT); a few customers are
        looked up chunk by chunk in list order and written as they come."""
        try:
            chosen = options.resolved_columns()
        except ValueError as exc:
            raise DomainError(str(exc)) from exc
        plan_output(path)  # a refused target fails before any reading (and again at writing)
        if self._refresh_segments is not None and any(
                c.key in ("segment", "segment_reasons") for c in chosen):
            self._refresh_segments()
        helper = self._export_helper(options)
        try:
            with self._db.read() as session:
                order = list(ids) if ids is not None else list(
                    transfer.export_ids(session, query))
                total = len(order)
                tick = _export_ticker(total, progress, cancel)
                lines: Iterable[bytes]
                stored = transfer.stored_customers(session)
                if transfer.scan_is_cheaper(stored, total):
                    wanted: set[int] | None = set(order)
                    if len(wanted) >= stored:  # everyone: no need to skip anyone
                        wanted = None
                    by_id = self._encode_scan(session, stored, wanted, options, tick, helper)
                    lines = filter(None, map(by_id.get, order))  # a line is never b""
                else:
                    lines = (line for _, line in encode_customers(
                        transfer.iter_export_batches(session, order), options, tick, EXPORT_TICK))
                count = export_lines(lines, path, options)
        finally:
            if helper is not None:  # not needed after all, or an error: stopped
                helper.kill()
        if progress is not None:
            progress(count, total)
        return ExportResult(Path(path), count)

    def _export_helper(self, options: ExportOptions) -> forking.SpawnedCall | None:
        """Where this process may not fork (the export dialog's worker thread), a spawned
        interpreter for part of a big whole-table export, started first: its imports (~0.1 s)
        then overlap the reading here. None for a small database or custom columns (objects
        that cannot be sent to it)."""
        if forking.can_fork() or not forking.can_spawn() or self._db.info.path is None \
                or not all(isinstance(c, str) for c in options.columns) \
                or self._customer_count() < SPAWNED_EXPORT_AT:
            return None
        try:
            return forking.SpawnedCall(export_cells.encode_export_part,
                                       failure="Exporting failed")
        except OSError as error:  # no interpreter to spawn: all of it here
            logger.warning("Exporting in this process only: %s", error)
            return None

    def _encode_scan(self, session: Session, stored: int, wanted: set[int] | None,
                     options: ExportOptions, tick: Callable[[int], None],
                     helper: forking.SpawnedCall | None = None) -> dict[int, bytes]:
        """The CSV line of every customer (in `wanted`) by id, from whole-table reads.

        From FORKED_EXPORT_AT stored customers, where this process may fork, a child reads
        and encodes the upper half of the ids on the other core while this one does the
        lower half (0.6 instead of 1.1 s for 100,000 customers); same lines either way.
        Elsewhere a spawned `helper` does the upper half.

        The second process reads in a read transaction of its own, begun a moment after
        this one's: a customer changed in between is exported as it is then, every line
        still in one state (and only customers listed here are written)."""
        path = self._db.info.path
        second = helper is not None or (stored >= FORKED_EXPORT_AT and forking.can_fork())
        parts = transfer.halves(session, stored) if second and path is not None else None
        if parts is None:
            return dict(encode_customers(transfer.iter_whole_export(session, wanted),
                                         options, tick, EXPORT_TICK))
        lower, upper = parts
        last_contact = transfer.last_contact_query()
        args = (str(path), None if wanted is None else {
            i for i in wanted if upper[0] <= i <= upper[1]}, *upper, list(options.columns),
            options.delimiter, options.bom, last_contact)
        cursor = session.connection().connection.cursor()
        cursor.execute("SELECT 1 FROM customers LIMIT 1")  # this snapshot is held from here
        child: forking.ForkedCall | forking.SpawnedCall
        if helper is not None:
            child = helper
            helper.call(*args)
        else:
            child = forking.ForkedCall(partial(export_cells.encode_export_part, *args))
        try:
            with child:
                by_id = dict(encode_customers(
                    export_cells.iter_export_part(cursor, wanted, lower, last_contact), options,
                    tick, EXPORT_TICK))
                by_id.update(child.result())  # type: ignore[call-overload]
        finally:
            cursor.close()
        return by_id

    def export_vcard(self, path: str | os.PathLike[str], query: ListQuery = _ALL,
                     version: VCardVersion | str = VCardVersion.V4_0,
                     ids: Sequence[int] | None = None,
                     progress: ProgressCallback | None = None,
                     cancel: CancelToken | None = None) -> ExportResult:
        """All (or the selected `ids`) customers as one .vcf, written atomically; progress and
        cancel as for `export_csv` (a cancel leaves no file behind)."""
        version = VCardVersion(version)
        plan_output(path)  # a refused target fails before any reading (and again at writing)
        with self._db.read() as session:
            chosen = list(ids if ids is not None else transfer.export_ids(session, query))
            tick = _export_ticker(len(chosen), progress, cancel)
            count = 0

            def cards() -> Iterator[str]:
                nonlocal count
                for _, draft, _ in transfer.iter_export_records(session, chosen):
                    count += 1
                    yield vcard_for(draft, uid=draft.source_uid, version=version)
                    if count % EXPORT_TICK == 0:
                        tick(count)  # raises on cancel: the temporary file is removed

            _write_atomically(Path(path), cards())
        if progress is not None:
            progress(count, len(chosen))
        return ExportResult(Path(path), count)

    def export_ics(self, path: str | os.PathLike[str], query: ListQuery = _ALL,
                   now: datetime | None = None, days: int | None = None,
                   ids: Sequence[int] | None = None,
                   progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None) -> ExportResult:
        """Birthdays and anniversaries (yearly events, the app's leap-day rule) and, with
        `days`, the upcoming one-off touchpoints of the same customers (single all-day
        events dated today..today+days). Progress counts the customers read; a cancel
        leaves no file behind."""
        plan_output(path)  # a refused target fails before any reading (and again at writing)
        now = now or datetime.now().astimezone()
        policy = self.leap_day_policy()
        events = []
        with self._db.read() as session:
            chosen = list(ids if ids is not None else transfer.export_ids(session, query))
            tick = _export_ticker(len(chosen), progress, cancel)
            for done, (_, draft, _) in enumerate(
                    transfer.iter_export_records(session, chosen), 1):
                events += yearly_events_for_customer(
                    draft.source_uid, draft.effective_display_name(),
                    draft.special_dates, customer_since=draft.customer_since)
                if done % EXPORT_TICK == 0:
                    tick(done)
        touchpoints = self._touchpoint_events(now.date(), days, set(chosen)) if days else []
        text = export_icalendar(now=now, yearly=events, touchpoints=touchpoints,
                                leap_day_policy=policy)
        tick(len(chosen))  # the last chance to cancel before the file is written
        _write_atomically(Path(path), iter([text]))
        return ExportResult(Path(path), len(events) + len(touchpoints))

    def leap_day_policy(self) -> str:
        spec = ALL_SETTINGS.get(LEAP_DAY_SETTING)
        return str(self._settings.get(spec)) if spec is not None else "feb28"

    def _touchpoint_events(self, today: date, days: int,
                           customer_ids: set[int]) -> list[TouchpointEvent]:
        """Upcoming touchpoints as single all-day events on their date.

        Yearly occasions (birthdays, anniversaries, custom dates) are left out: the yearly
        events already put them in the calendar, and a second copy would double them.
        Overdue ones are left out too: a calendar event in the past helps nobody. The UID is
        the occurrence key, so a newer export updates the event instead of adding a copy.
        """
        if self._touchpoints is None:
            logger.warning("No touchpoint service: upcoming touchpoints are not exported")
            return []
        end = today + timedelta(days=days)
        out: list[TouchpointEvent] = []
        for t in self._touchpoints.due(days):
            if t.occasion in _YEARLY_OCCASIONS or not today <= t.date <= end \
                    or t.customer_id not in customer_ids:
                continue
            title = t.occasion.title if t.label.casefold() in ("", t.occasion.title.casefold()) \
                else f"{t.occasion.title} ({t.label})"
            out.append(TouchpointEvent(
                uid=f"{t.key}@crmcompanion", date=t.date, summary=f"{title}: {t.customer}",
                description=t.label))
        return out


_YEARLY_OCCASIONS: Final = frozenset({Occasion.BIRTHDAY, Occasion.WEDDING_ANNIVERSARY,
                                      Occasion.CUSTOMER_ANNIVERSARY, Occasion.CUSTOM})


# --- helpers -----------------------------------------------------------------------------


_TEXT_BOMS: Final = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def _looks_binary(path: str) -> bool:
    """True for a program, an image, an archive...: a NUL byte in the first 8 KiB that is not
    part of UTF-16 text (which has NULs between ASCII letters but decodes to no control
    character). Checked before any decoding so the user hears "not a text file", not the
    complaint of whichever codec was guessed."""
    with open(path, "rb") as handle:
        head = handle.read(8192)
    if b"\x00" not in head or head.startswith(_TEXT_BOMS):
        return False
    even = head[: len(head) // 2 * 2]
    for codec in ("utf-16-le", "utf-16-be"):
        # "replace": the 8 KiB may end inside a surrogate pair.
        text = even.decode(codec, errors="replace")
        if not any(ch < " " and ch not in "\t\r\n" for ch in text):
            return False
    return True


def import_format(path: str | os.PathLike[str]) -> str | None:
    """The format `preview` would read the file as when none is given ("csv" or "vcard"), or
    None for a path that is not a readable file: lets a caller check its options first."""
    try:
        return _guess_format(os.fspath(path)) if Path(path).is_file() else None
    except OSError:
        return None


def _guess_format(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in (".vcf", ".vcard"):
        return CsvFormat.VCARD
    with open(path, "rb") as handle:
        head = handle.read(2048).lstrip(b"\xef\xbb\xbf").lstrip()
    if head[:11].upper() == b"BEGIN:VCARD":
        return CsvFormat.VCARD
    return CsvFormat.CSV


def _problem(issue: csv_import.ImportIssue) -> RowProblem:
    return RowProblem(issue.line, issue.column, issue.reason, issue.code,
                      fatal=issue.code in _FATAL_CODES, row=issue.row)


def _validated(line: int, draft: CustomerDraft, region: str, rejected: list[RowProblem],
               recognised: str) -> CustomerDraft | None:
    """The draft as `validate_customer` cleans it (phones apart, see `_clean_values`), or
    None with its problems added to `rejected` (columns named as the file names them)."""
    clean = _clean_values(values_of(draft), region)
    if clean is not None:
        return draft_of(clean)
    phones = tuple(PhoneNumber(p.number, p.label or "mobile") if _is_e164(p.number) else
                   PhoneNumber(_phone_or_typed(p.number, region), p.label.strip() or "mobile")
                   for p in draft.phones if p.number.strip())
    try:
        return replace(validate_customer(replace(draft, phones=()), region), phones=phones)
    except ValidationError as exc:
        for key, message in exc.field_errors.items():
            rejected.append(RowProblem(line, _column(key.split(".")[0], recognised), message,
                                       "invalid"))
        return None


def _column(name: str, recognised: str) -> str:
    """A field's column for a problem: the header of the app's own format, else its name."""
    return _FIELD_HEADERS.get(name, "") if recognised == csv_import.Format.OWN else \
        name.replace("_", " ")


def _sanitised(line: int, values: CustomerValues, rejected: list[RowProblem], recognised: str,
               today: date) -> CustomerValues | None:
    """The import's one sanitising step (`import_text.sanitise`) for a row of any format:
    its values as they may be stored, or None with its problems added to `rejected`."""
    clean, problems = import_text.sanitise(values, today)
    if not problems:
        return clean
    for name, reason in problems:
        rejected.append(RowProblem(line, _column(name, recognised), reason, "invalid"))
    return None


def _checked(line: int, values: CustomerValues, region: str, rejected: list[RowProblem],
             recognised: str, today: date) -> CustomerValues | None:
    """The sanitising step, then `_validated` for values: the quick check, and the full one
    only for a row it does not accept (to name the problems)."""
    values = _sanitised(line, values, rejected, recognised, today)  # type: ignore[assignment]
    if values is None:
        return None
    clean = _clean_values(values, region)
    if clean is not None:
        return clean
    draft = _validated(line, draft_of(values), region, rejected, recognised)
    return values_of(draft) if draft is not None else None


def _clean_values(v: CustomerValues, region: str) -> CustomerValues | None:
    """What `validate_customer` returns for a customer it accepts, or None when any check
    fails (the caller then runs `validate_customer` for its exact messages), on plain values:
    at 100,000 rows building and copying the frozen drafts alone cost seconds.

    Phones are checked apart: one odd number must not refuse a whole address book, so a number
    that cannot be read as E.164 is kept as typed (as the CSV codec does).
    tests/services/test_import_export_equivalence.py compares this with `validate_customer`.
    """
    phones: list[PhoneValues] = []
    for phone in v.phones:
        number = phone[0]
        if not number.strip():
            continue
        if _is_e164(number):
            # A file without a label column gives "": the default label, as everywhere.
            phones.append(phone if phone[1] else (number, "mobile"))
        else:
            phones.append((_phone_or_typed(number, region), phone[1].strip() or "mobile"))
    emails: list[EmailValues] = []
    for address, label in v.emails:
        if is_plain_email(address):
            emails.append((address, label.strip() or "home"))
            continue
        address = normalise_email(address)
        if not address:
            continue
        if email_problem(address) is not None:
            return None
        emails.append((address, label.strip() or "home"))
    for special in v.special_dates:
        # = special_date_problem(SpecialDate(*special)) is None; valid dates are remembered
        kind, month, day, year, label = special
        if (month, day, year) not in _VALID_DATES:
            try:
                validate_month_day(month, day, year)
            except ValueError:
                return None
            if len(_VALID_DATES) < 100_000:
                _VALID_DATES.add((month, day, year))
        if kind == "custom" and not label.strip():
            return None
    if v.customer_since and v.customer_since.year < 1900:
        return None
    if len(v.notes) > MAX_NOTES_LENGTH:
        return None
    tags = _clean_tags(tuple(v.tags)) if v.tags else ()
    if tags is None:
        return None
    first, last, display, company = (v.first_name.strip(), v.last_name.strip(),
                                     v.display_name.strip(), v.company.strip())
    if not names_ok(first, last, display, company):
        return None
    return _new_values((first, last, display, company, emails, phones, v.address, tags,
                        *v[8:]))


_VALID_DATES: set[tuple[int, int, int | None]] = set()
_CLEANED_TAGS: dict[tuple[str, ...], tuple[str, ...] | None] = {}


def _clean_tags(tags: tuple[str, ...]) -> tuple[str, ...] | None:
    """`clean_tags`, or None when a tag is too long; remembered (a file's rows share a few
    tag lists)."""
    found = _CLEANED_TAGS.get(tags, _NOT_SEEN)
    if found is _NOT_SEEN:
        found = clean_tags(tags)
        if any(len(tag) > MAX_TAG_LENGTH for tag in found):
            found = None
        if len(_CLEANED_TAGS) < 10_000:
            _CLEANED_TAGS[tags] = found
    return found  # type: ignore[return-value]


_NOT_SEEN: Final = object()
_new_values: Final = partial(tuple.__new__, CustomerValues)  # CustomerValues(*fields), quicker


def _is_e164(number: str) -> bool:
    return number[:1] == "+" and number[1:].isdigit() and 7 <= len(number) <= 16


@lru_cache(maxsize=65536)  # national numbers repeat (switchboards); parsing costs ~80 µs
def _phone_or_typed(number: str, region: str) -> str:
    try:
        return normalise_phone(number, region)
    except ValueError:
        return number.strip()


def _csv_batches(report: csv_import.ImportReport, rejected: list[RowProblem]
                 ) -> Iterator[list[csv_import.ParsedRow]]:
    """Pass 2 that leaves out rows with issues (adding them to `rejected`) instead of refusing
    the file, so "skip invalid rows" can import the rest. Same parser as iter_parsed_batches."""
    if report.ok:
        yield from csv_import.iter_parsed_batches(report, BATCH_SIZE)
        return
    skipped: list[csv_import.ImportIssue] = []
    for batch in csv_import.iter_parsed_batches(report, BATCH_SIZE, skipped=skipped):
        rejected.extend(_problem(i) for i in skipped)
        skipped.clear()
        yield batch
    rejected.extend(_problem(i) for i in skipped)


def _vcard_rows(path: str, region: str, rejected: list[RowProblem], today: date
                ) -> Iterator[list[_Row]]:
    parsed = read_vcard_file(path, default_region=region)
    if not parsed.cards:
        # An .ics, a CSV or a binary file given as vCard: nothing to import, said so.
        first = parsed.problems[0].message if parsed.problems else ""
        detail = first if first.startswith("cannot tell") else \
            "no vCard (BEGIN:VCARD … END:VCARD) in the file"
        raise csv_import.CsvImportError((csv_import.ImportIssue(
            1, "", f"nothing to import: {detail}", "empty_file"),))
    for problem in parsed.problems:
        if problem.skipped_card:
            rejected.append(RowProblem(problem.line, "", problem.message, "bad_card",
                                       row=problem.card_line or problem.line))
    out: list[_Row] = []
    for line, draft in zip(parsed.lines, parsed.drafts, strict=True):
        values = _sanitised(line, values_of(draft), rejected, "vcard", today)
        clean = _validated(line, draft_of(values), region, rejected, "vcard") \
            if values is not None else None
        if clean is not None:
            out.append(_Row(line, values_of(clean)))
        if len(out) >= BATCH_SIZE:
            yield out
            out = []
    if out:
        yield out


class _Matcher:
    """Finds rows matching a stored customer (or an earlier row): UID, then email, then phone."""

    def __init__(self) -> None:
        # Keys of the rows of this file that matched nothing earlier: a later row with one of
        # them duplicates "an earlier row of the file" (customer_id None, never merged).
        self.uids: set[str] = set()
        self.emails: set[str] = set()
        self.phones: set[str] = set()
        self.last_matched_rows: list[_Row] = []

    @staticmethod
    def keys(values: CustomerValues) -> tuple[str, list[str], list[str]]:
        emails = [e[0].lower() for e in values.emails]
        phones = [digits(p[0]) for p in values.phones if p[0].startswith("+")]
        return values.source_uid, emails, phones

    def split(self, session: Session, batch: list[_Row], lookup: bool = True
              ) -> tuple[list[_Row], list[DuplicateMatch]]:
        """The batch's rows that match nothing yet, and the matches of the others. `lookup`
        False: the database holds no customers, so only earlier rows can match."""
        by_uid: dict[str, int] = {}
        by_email: dict[str, int] = {}
        by_phone: dict[str, int] = {}
        if lookup:
            uids: list[str] = []
            all_emails: list[str] = []
            all_phones: list[str] = []
            for r in batch:
                u, e, p = r.keys()
                if u:
                    uids.append(u)
                all_emails += e
                all_phones += p
            # Only UIDs stored here (issued by this book, or imported into it) match: every
            # customer has its own random one, so another book's can never name one of ours.
            by_uid = transfer.ids_by_source_uid(session, uids)
            by_email = transfer.ids_by_email_key(session, all_emails)
            by_phone = transfer.ids_by_phone_digits(session, all_phones)
        fresh: list[_Row] = []
        found: list[tuple[_Row, str, str, int | None]] = []
        for row in batch:
            match = self._match(row, by_uid, by_email, by_phone)
            if match is None:
                fresh.append(row)
                self._remember(row)
            else:
                found.append((row, *match))
        names = transfer.display_names(session, [cid for *_, cid in found if cid])
        self.last_matched_rows = [row for row, *_ in found]
        return fresh, [
            DuplicateMatch(row.line, cid or None, names.get(cid or 0, ""), how, value)
            for row, how, value, cid in found
        ]

    def _match(self, row: _Row, by_uid: dict[str, int], by_email: dict[str, int],
               by_phone: dict[str, int]) -> tuple[str, str, int | None] | None:
        uid, emails, phones = row.keys()
        if uid:
            if uid in by_uid:
                return "uid", uid, by_uid[uid]
            if uid in self.uids:
                return "uid", uid, None
        for email in emails:
            if email in by_email:
                return "email", email, by_email[email]
            if email in self.emails:
                return "email", email, None
        for phone in phones:
            if phone in by_phone:
                return "phone", "+" + phone, by_phone[phone]
            if phone in self.phones:
                return "phone", "+" + phone, None
        return None

    def _remember(self, row: _Row) -> None:
        uid, emails, phones = row.keys()
        if uid:
            self.uids.add(uid)
        self.emails.update(emails)
        self.phones.update(phones)


_EPOCH: Final = datetime(1970, 1, 1)
_MINUTE: Final = timedelta(minutes=1)
LAST_CONTACT_SUMMARY: Final = "Last contact (imported)"


def _merge_into(session: Session, customer_id: int, incoming: CustomerDraft,
                staff_id: int | None, now: datetime) -> None:
    """Fill what the stored customer lacks from the row: empty text fields, extra emails,
    phones, tags and special dates. Nothing already stored is overwritten."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    row = session.scalar(select(m.Customer).where(m.Customer.id == customer_id).options(
        selectinload(m.Customer.emails), selectinload(m.Customer.phones),
        selectinload(m.Customer.special_dates)))
    if row is None:
        return
    current = repo.load_customers(session, [customer_id])[0].to_draft()
    changes: dict[str, object] = {}
    for name in ("first_name", "last_name", "company", "notes", "source_uid"):
        if not getattr(current, name) and getattr(incoming, name):
            changes[name] = getattr(incoming, name)
    if current.address.is_empty() and not incoming.address.is_empty():
        changes["address"] = incoming.address
    if current.customer_since is None and incoming.customer_since is not None:
        changes["customer_since"] = incoming.customer_since
    known_emails = {e.address.lower() for e in current.emails}
    emails = current.emails + tuple(e for e in incoming.emails
                                    if e.address.lower() not in known_emails)
    known_phones = {digits(p.number) for p in current.phones}
    phones = current.phones + tuple(p for p in incoming.phones
                                    if digits(p.number) not in known_phones)
    tags = tuple(dict.fromkeys(current.tags + incoming.tags))
    specials = current.special_dates + tuple(
        s for s in incoming.special_dates if s not in current.special_dates)
    merged = replace(current, emails=emails, phones=phones, tags=tags, special_dates=specials,
                     **changes)  # type: ignore[arg-type]
    if merged == current:
        return
    repo.apply_draft(row, merged)
    repo.touch(row, staff_id, now)
    session.flush()
    repo.set_customer_tags(session, customer_id, merged.tags)
    repo.index_customer(session, customer_id, merged)


def _export_ticker(total: int, progress: ProgressCallback | None,
                   cancel: CancelToken | None) -> Callable[[int], None]:
    """What an export calls every EXPORT_TICK customers: stop if cancelled, else report."""

    def tick(done: int) -> None:
        if cancel is not None and cancel.cancelled:
            raise ImportCancelled("Export cancelled; no file was written.")
        if progress is not None:
            progress(done, total)

    return tick


def _write_atomically(target: Path, chunks: Iterator[str]) -> None:
    """UTF-8 bytes (CRLFs kept as written), replacing `target` only once all are written."""
    with replaced_atomically(target) as handle:
        for chunk in chunks:
            handle.write(chunk.encode("utf-8"))
