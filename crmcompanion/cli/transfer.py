"""`crmcompanion import` and `export`: the import/export service from a terminal.

Data on stdout, messages on stderr; exit 0 success, 1 a domain error, 2 a usage error.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from crmcompanion.cli.base import (
    EXIT_DOMAIN_ERROR,
    EXIT_OK,
    MAX_DAYS,
    Cli,
    UsageError,
    set_handler,
    shown,
    whole_number,
)
from crmcompanion.core.csv_headers import MAPPING_FIELDS

if TYPE_CHECKING:
    from collections.abc import Sequence

    from crmcompanion.cli.base import Commands
    from crmcompanion.services.import_export import ImportExportService

logger = logging.getLogger(__name__)


def register(commands: Commands) -> None:
    """Add the import and export sub-commands to the main parser's subparsers."""
    imp = commands.add_parser("import", help="import customers from a CSV or vCard file")
    imp.add_argument("file")
    imp.add_argument("--format", choices=("csv", "vcard"), default=None,
                     help="file format (default: from the file name and content)")
    imp.add_argument("--map", action="append", default=[], metavar="HEADER=FIELD",
                     help="map a CSV header to a field (repeatable); FIELD is one of "
                          f"{', '.join(MAPPING_FIELDS)}; email:LABEL or phone:LABEL sets "
                          "the label (email:work, phone:home); 'ignore' skips the column")
    imp.add_argument("--date-order", choices=("dmy", "mdy"), default=None,
                     help="day/month order of slash dates like 3/4/1980")
    imp.add_argument("--skip-invalid", action="store_true",
                     help="import the valid rows and skip the rejected ones")
    imp.add_argument("--merge-duplicates", action="store_true",
                     help="fill matching customers from the file instead of skipping rows")
    imp.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
    imp.add_argument("--json", action="store_true", help="print the result as JSON")

    exp = commands.add_parser("export", help="export customers as CSV, vCard or iCalendar")
    exp.add_argument("--format", choices=("csv", "vcard", "ics"), required=True)
    exp.add_argument("-o", "--output", required=True, metavar="FILE",
                     help="the file to write; - for standard output")
    exp.add_argument("--search", default="", metavar="TEXT")
    exp.add_argument("--tag", default=None, metavar="T")
    exp.add_argument("--columns", nargs="+", default=None, metavar="COLUMN",
                     help="CSV columns (space or comma separated); default: all")
    exp.add_argument("--days", type=whole_number(0, MAX_DAYS), default=None, metavar="N",
                     help=f"iCalendar: also upcoming touchpoints in the next N days "
                          f"(0 to {MAX_DAYS:,})")
    exp.add_argument("--delimiter", choices=(",", ";"), default=",")
    exp.add_argument("--no-bom", action="store_true", help="CSV without the UTF-8 BOM")
    exp.add_argument("--vcard-version", choices=("3.0", "4.0"), default="4.0")
    set_handler(imp, run_import)
    set_handler(exp, run_export)


def _service(cli: Cli) -> ImportExportService:
    return cli.services.import_export


def _mapping(pairs: list[str]) -> dict[str, str | None]:
    mapping: dict[str, str | None] = {}
    for pair in pairs:
        header, sep, target = pair.partition("=")
        if not sep or not header.strip():
            raise UsageError(
                f"crmcompanion import: --map expects HEADER=FIELD, not {shown(repr(pair))}")
        mapping[header.strip()] = None if target.strip() in ("", "ignore") else target.strip()
    return mapping


# More ignored columns than this are summed up in one line instead of one line each.
IGNORED_COLUMNS_LISTED = 5


def _report_ignored_columns(cli: Cli, headers: Sequence[str]) -> None:
    """One line per ignored column for a few; one summary line for a wide sheet."""
    if len(headers) <= IGNORED_COLUMNS_LISTED:
        for header in headers:
            name = shown(header)
            cli.err.write(f"Ignored column “{name}” (map it with --map \"{name}=FIELD\").\n")
        return
    first = ", ".join(f"“{shown(h)}”" for h in headers[:IGNORED_COLUMNS_LISTED])
    cli.err.write(f"Ignored {len(headers):,} columns ({first} and "
                  f"{len(headers) - IGNORED_COLUMNS_LISTED:,} more); map one with "
                  "--map \"HEADER=FIELD\".\n")


def run_import(cli: Cli) -> int:
    from crmcompanion.services.import_export import ImportRejected, ImportResult, import_format

    args = cli.args
    mapping = _mapping(args.map)
    if mapping and (args.format or import_format(args.file)) == "vcard":
        raise UsageError("crmcompanion import: --map does not apply to a vCard file (its "
                         "fields are named by the format); it maps CSV columns")
    service = _service(cli)
    preview = service.preview(args.file, mapping, args.date_order,
                              format=args.format, find_duplicates=False)
    _report_ignored_columns(cli, preview.unknown_headers)
    for header, kind in preview.unimported_contacts:
        name = shown(header)
        what = "email addresses" if kind == "email" else "phone numbers"
        cli.err.write(f"WARNING: column “{name}” holds {what} but is not imported; add --map "
                      f"\"{name}={kind}\" to import them.\n")
    if preview.date_order_ambiguous:
        if args.json:
            cli.print_json({"rows": preview.row_count, "created": 0, "skipped_duplicates": 0,
                            "rejected": [p.as_json() for p in preview.problems],
                            "written": False})
        cli.err.write("crmcompanion: the day/month order of the dates is ambiguous; pass "
                      "--date-order dmy or --date-order mdy.\n")
        return EXIT_DOMAIN_ERROR
    try:
        result: ImportResult = service.run(preview.plan, skip_invalid=args.skip_invalid,
                                           merge_duplicates=args.merge_duplicates,
                                           dry_run=args.dry_run)
        code = EXIT_OK
    except ImportRejected as exc:
        result = exc.result
        code = EXIT_DOMAIN_ERROR
    if args.json:
        cli.print_json(result.as_json())
    fatal = [p for p in result.rejected if p.fatal]
    if code != EXIT_OK and len(fatal) == 1 and result.rejected_count == 1:
        # One problem with the whole file (it is empty, has no usable header...): one line,
        # and no --skip-invalid, which skips rows and could not help.
        cli.err.write(f"crmcompanion: nothing was imported: {shown(fatal[0].reason)}.\n")
        return code
    for problem in result.rejected[:20]:
        cli.err.write(f"line {problem.line}, {shown(problem.column or 'row')}: "
                      f"{shown(problem.reason)}\n")
    if len(result.rejected) > 20:
        more_rows = result.rejected_count - len({p.line for p in result.rejected[:20]})
        cli.err.write(f"... and {len(result.rejected) - 20:,} more problems"
                      + (f" ({more_rows:,} rows rejected in all).\n" if more_rows > 0 else ".\n"))
    if code != EXIT_OK:
        advice = "fix the file" if fatal else "fix the rows above or pass --skip-invalid"
        cli.err.write(f"crmcompanion: nothing was imported; {advice}.\n")
        return code
    verb = "Would import" if args.dry_run else "Imported"
    cli.err.write(f"{verb} {result.created:,} customers; {result.skipped_duplicates:,} "
                  f"duplicates skipped, {result.merged:,} merged, {result.rejected_count:,} "
                  "rows rejected.\n")
    return EXIT_OK


def run_export(cli: Cli) -> int:
    from crmcompanion.core.atomic_file import plan_output
    from crmcompanion.core.csv_export import ExportOptions
    from crmcompanion.services.customers import ListQuery

    args = cli.args
    # The target first, before the database is opened: the database itself, a folder, a
    # missing folder... is one line and nothing is read or written (core.atomic_file).
    plan_output(args.output)
    query = ListQuery(search=args.search or "", tag=args.tag, archived=None)
    service = _service(cli)
    if args.format == "csv":
        columns = None
        if args.columns:
            columns = tuple(c.strip() for item in args.columns for c in item.split(",")
                            if c.strip())
        try:
            options = ExportOptions(delimiter=args.delimiter, bom=not args.no_bom,
                                    **({"columns": columns} if columns else {}))
            options.resolved_columns()
        except ValueError as exc:
            raise UsageError(f"crmcompanion export: {exc}") from exc
        result = service.export_csv(args.output, query, options)
    elif args.format == "vcard":
        result = service.export_vcard(args.output, query, version=args.vcard_version)
    else:
        result = service.export_ics(args.output, query, now=cli.clock.now(), days=args.days)
    where = "standard output" if args.output == "-" else result.path
    cli.err.write(f"Exported {result.count:,} {'events' if args.format == 'ics' else 'customers'}"
                  f" to {shown(where)}.\n")
    return EXIT_OK

