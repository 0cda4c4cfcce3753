"""Property test of the import against hostile files (issue 18, "Build").

Hypothesis builds CSV and vCard files from hostile pieces: encodings (UTF-8, UTF-8 with BOM,
UTF-16, Windows-1252, a stray invalid byte), control characters (NUL, ESC, BEL, BS, DEL, bidi
overrides, zero-width spaces, line breaks, tabs), quoting, vCard folding and quoted-printable,
huge cells and impossible dates. For every file:

- the import ends as the command line would end it: 0 (imported) or 1 (a DomainError); any
  other exception is a failure (it would be a traceback);
- on 1 the database is unchanged, byte for byte;
- on 0 every stored name, email and phone equals what `reference` reads from the piece that
  was written into the file, after the sanitising documented in core/import_text.py
  (re-implemented here, character by character, independently of the module);
- no stored value breaks a later export (CSV, vCard 3.0 and 4.0, iCalendar), and the vCard
  export parses again.

Most examples call the service in this process (fast); a handful go through the real
`python -m crmcompanion import` in a subprocess (exit 0, 1 or 2; no traceback; unchanged
database on 1). Budget: a few seconds normally; `CRM_LONG_TESTS=1` runs the long budget
(`CRM_LONG_EXAMPLES`, default 2,000) and prints the number of inputs and the longest import.
"""

from __future__ import annotations

import csv
import io
import os
import quopri
import sqlite3
import subprocess
import sys
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from crmcompanion.core.clock import FixedClock
from crmcompanion.core.errors import DomainError
from crmcompanion.core.vcard import parse_vcards
from crmcompanion.services.container import Services, open_services
from tests.services.helpers import dump, dump_file

LONG = os.environ.get("CRM_LONG_TESTS") == "1"
EXAMPLES = int(os.environ.get("CRM_LONG_EXAMPLES", "2000")) if LONG else 25
CLI_EXAMPLES = 40 if LONG else 2
NOW = datetime(2026, 11, 22, 10, 30)
ROOT = Path(__file__).resolve().parents[2]
# Shrinking a failing file costs minutes (every attempt is an import): the failure is shown
# as generated, which says enough with the file's bytes printed.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate)

# --- the reference decoder: the documented sanitising, written out independently ---------------

BREAKS = set("\t\n\r\v\f\x1c\x1d\x1e\x1f\x85\u2028\u2029")
INVISIBLE = (set(map(chr, range(0x00, 0x09))) | set(map(chr, range(0x0E, 0x1C)))
             | set(map(chr, range(0x7F, 0x85))) | set(map(chr, range(0x86, 0xA0)))
             | set("\u00ad\u061c\u180e\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                   "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
                   "\ufff9\ufffa\ufffb"))


def reference_one_line(text: str) -> str:
    """Invisible characters dropped; each run of spaces and breaks holding a break: one
    space; then trimmed as the validation trims."""
    kept = [ch for ch in text if ch not in INVISIBLE]
    out: list[str] = []
    i = 0
    while i < len(kept):
        if kept[i] == " " or kept[i] in BREAKS:
            j = i
            while j < len(kept) and (kept[j] == " " or kept[j] in BREAKS):
                j += 1
            run = kept[i:j]
            out.append(" " if any(ch in BREAKS for ch in run) else "".join(run))
            i = j
        else:
            out.append(kept[i])
            i += 1
    return "".join(out).strip()


def unsafe(text: str, for_terminal: bool = False) -> bool:
    """Holds what a one-line stored value (or, `for_terminal`, a message) must not."""
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs", "Zl", "Zp") or (
                category == "Cf" if for_terminal else ch in INVISIBLE or ch in BREAKS):
            return True
    return False


def digits(text: str) -> str:
    return "".join(ch for ch in text if "0" <= ch <= "9")


# --- hostile pieces ------------------------------------------------------------------------------

HOSTILE_CHARS = ["\x00", "\x1b", "\x07", "\x08", "\x7f", "\u202e", "\u200b", "\u2066", "\n",
                 "\r\n", "\t", "\x85", "\u2028", "\ufeff", "\xa0", '"', ",", ";", ":", "\\",
                 "=", "'", "'=", " ::: "]
LETTERS = [*"AnaBoCyDéüßøñçŁłŻżЖжΩω山田花子김민", "  ", " "]
# Readable dates come up about as often as impossible ones: a file whose every row is bad
# only tests the refusal, not what is stored.
GOOD_DATES = ["1984-02-29", "--0229", "1990-07-15", "", "1801-01-01", "2199-12-31"]
DATES = [*GOOD_DATES * 2, "--0230", "19840230", "00000000", "soon", "19841314", "--1301",
         "1799-12-31", "2201-01-01", "9999-12-31", "0001-01-01", "2030-05-05"]


@st.composite
def hostile_text(draw: st.DrawFn, size: int = 12) -> str:
    pieces = draw(st.lists(st.one_of(st.sampled_from(LETTERS), st.sampled_from(LETTERS),
                                     st.sampled_from(LETTERS), st.sampled_from(HOSTILE_CHARS),
                                     st.text(max_size=3)), min_size=1, max_size=size))
    return "".join(pieces)


@st.composite
def phone(draw: st.DrawFn, index: int) -> str:
    number = f"+49 30 {index:07d}"
    kind = draw(st.sampled_from(["plain", "plain", "plain", "hostile", "letters", "long",
                                 "empty"]))
    if kind == "hostile":
        at = draw(st.integers(0, len(number)))
        return number[:at] + draw(st.sampled_from(["\u200b", "\x1b", "\u202e", "\x07",
                                                   "\x00"])) + number[at:]
    if kind == "letters":
        return number + " ABC"
    if kind == "long":
        return "+49 30 1234567890123"
    return "" if kind == "empty" else number


@dataclass(repr=False)
class Person:
    index: int
    first: str
    last: str
    email: str  # what is written
    phone: str
    birthday: str
    notes: str

    @property
    def key(self) -> str:
        return f"p{self.index}@example.com"


@st.composite
def people(draw: st.DrawFn) -> list[Person]:
    count = draw(st.integers(1, 6))
    out = []
    for i in range(count):
        email = f"p{i}@example.com"
        if draw(st.booleans()):
            at = draw(st.integers(0, len(email)))
            email = email[:at] + draw(st.sampled_from(["\u200b", "\x1b", "\u202e", "\x00",
                                                       "\ufeff"])) + email[at:]
        huge = draw(st.integers(0, 40)) == 0
        first = draw(hostile_text()) + ("X" * 140_000 if huge else "")
        out.append(Person(i, first, draw(hostile_text()), email, draw(phone(i)),
                          draw(st.sampled_from(DATES)), draw(hostile_text(20))))
    return out


@dataclass
class HostileFile:
    name: str
    data: bytes = field(repr=False)
    people: list[Person] = field(repr=False)
    fmt: str  # "csv" or "vcard"
    text: str = field(repr=False, default="")  # what was encoded into `data`

    def __repr__(self) -> str:  # a failure shows the file, cut where it is huge
        data = self.data if len(self.data) < 4000 else self.data[:4000] + b"..."
        return f"HostileFile({self.name!r}, {len(self.data):,} bytes: {data!r})"


def encode(text: str, draw: st.DrawFn) -> bytes:
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "cp1252",
                                     "utf-8+bad"]))
    if encoding == "cp1252":
        try:
            return text.encode("cp1252")
        except UnicodeEncodeError:
            encoding = "utf-8"
    if encoding == "utf-8+bad":
        data = text.encode("utf-8", "surrogatepass")
        at = draw(st.integers(0, len(data)))
        return data[:at] + b"\xff" + data[at:]
    return text.encode(encoding, "surrogatepass")


@st.composite
def csv_file(draw: st.DrawFn) -> HostileFile:
    persons = draw(people())
    out = io.StringIO()
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    writer = csv.writer(out, quoting=quoting, lineterminator=draw(st.sampled_from(["\n",
                                                                                 "\r\n"])))
    writer.writerow(["First name", "Last name", "Emails", "Phones", "Birthday", "Notes"])
    for p in persons:
        writer.writerow([p.first, p.last, p.email, p.phone, p.birthday, p.notes])
    return HostileFile("hostile.csv", encode(out.getvalue(), draw), persons, "csv",
                       out.getvalue())


def vcard_value(text: str, draw: st.DrawFn) -> tuple[str, str]:
    """(parameters, value) of a TEXT value, escaped, maybe quoted-printable."""
    escaped = vcard_escape(text)
    if draw(st.booleans()):
        data = quopri.encodestring(escaped.encode("utf-8")).decode("ascii")
        return ";CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE", data.replace("\n", "\r\n")
    return "", escaped


def fold(line: str, width: int) -> str:
    if len(line) <= width:
        return line
    return "\r\n ".join(line[i:i + width] for i in range(0, len(line), width))


@st.composite
def vcard_file(draw: st.DrawFn) -> HostileFile:
    persons = draw(people())
    width = draw(st.sampled_from([1, 7, 75, 10_000]))
    cards = []
    for p in persons:
        # N keeps its ';' between the parts: each part is escaped, not the separator.
        n_value = f"{vcard_escape(p.last)};{vcard_escape(p.first)};;;"
        if draw(st.booleans()):
            n_line = "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:" + quopri.encodestring(
                n_value.encode("utf-8")).decode("ascii").replace("\n", "\r\n")
        else:
            n_line = f"N:{n_value}"
        lines = ["BEGIN:VCARD", "VERSION:" + draw(st.sampled_from(["2.1", "3.0", "4.0"])),
                 n_line, f"EMAIL:{p.email}"]
        if p.phone:
            lines.append(f"TEL;TYPE=cell:{p.phone}")
        if p.birthday:
            lines.append(f"BDAY:{p.birthday}")
        note_params, note = vcard_value(p.notes, draw)
        lines += [f"NOTE{note_params}:{note}", "END:VCARD"]
        if not note_params and width < 10_000:
            # Quoted-printable lines keep their own soft breaks: folding them too would make
            # a file with no one right reading.
            lines = [fold(line, width) if not line.startswith(("BEGIN", "END"))
                     and "QUOTED-PRINTABLE" not in line else line for line in lines]
        cards.append("\r\n".join(lines) + "\r\n")
    text = "".join(cards)
    return HostileFile("hostile.vcf", encode(text, draw), persons, "vcard")


def vcard_escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


# --- the import and its invariants --------------------------------------------------------------


@dataclass
class Stats:
    inputs: int = 0
    exits: dict[int, int] = field(default_factory=dict)
    longest: float = 0.0
    longest_size: int = 0


STATS = Stats()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("hostile")
    yield folder
    if LONG:
        print(f"\nhostile imports: {STATS.inputs} generated inputs, exits {STATS.exits}, "
              f"longest import {STATS.longest:.3f} s ({STATS.longest_size:,} bytes)",
              file=sys.__stderr__)


def customer_ids(services: Services) -> set[int]:
    path = services.db.info.path
    assert path is not None
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT id FROM customers")}
    finally:
        conn.close()


def csv_records(text: str) -> Iterator[list[str]]:
    """The records after the header; one the csv module refuses (a cell over its field
    limit, which the importer refuses too) is passed over, as the importer does."""
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader, None)
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error:
            continue


def reference_rows(hostile: HostileFile) -> dict[str, tuple[str, str, str]]:
    """(first, last, phone) by email as a reference decoder reads them from the file: the
    standard library's csv reader for CSV (a bare CR that csv.writer leaves unquoted really
    does end a record there), the values as written for vCard (escaped, so no break)."""
    if hostile.fmt == "vcard":
        return {p.key: (reference_one_line(vcard_component(p.first)),
                        reference_one_line(vcard_component(p.last)), p.phone)
                for p in hostile.people}
    out: dict[str, tuple[str, str, str]] = {}
    for cells in csv_records(hostile.text):
        if len(cells) == 6:
            key = reference_one_line(csv_cell(cells[2])).lower()
            out[key] = (reference_one_line(csv_cell(cells[0])),
                        reference_one_line(csv_cell(cells[1])), cells[3])
    return out


def csv_cell(text: str) -> str:
    """A CSV cell as the importer reads it: trimmed, the export's neutralising quote gone."""
    text = text.strip()
    if text[:1] == "'" and text.lstrip("'")[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = text[1:]
    return text


def vcard_component(text: str) -> str:
    """An N component as written (escaped) and read back: breaks were written as \\n."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def check_import(services: Services, folder: Path, hostile: HostileFile,
                 skip_invalid: bool) -> None:
    path = folder / hostile.name
    path.write_bytes(hostile.data)
    before = dump(services)
    ids_before = customer_ids(services)
    service = services.import_export
    start = time.perf_counter()
    try:
        preview = service.preview(path)
        result = service.run(preview.plan, skip_invalid=skip_invalid)
        code = 0
    except DomainError as error:
        code = 1
        assert "\x1b" not in str(error) and "\x00" not in str(error)
    elapsed = time.perf_counter() - start
    STATS.inputs += 1
    STATS.exits[code] = STATS.exits.get(code, 0) + 1
    if elapsed > STATS.longest:
        STATS.longest, STATS.longest_size = elapsed, len(hostile.data)
    if code == 1:
        assert dump(services) == before
        return
    assert result.written
    for problem in result.rejected:
        assert not unsafe(problem.reason + problem.column, for_terminal=True)
    expected = reference_rows(hostile)
    created = [services.customers.get(i).to_draft()
               for i in sorted(customer_ids(services) - ids_before)]
    assert len(created) == result.created
    for draft in created:
        (email,) = draft.emails
        first, last, phone = expected[email.address.lower()]
        assert (draft.first_name, draft.last_name) == (first, last)
        if draft.phones:
            assert digits(draft.phones[0].number) == digits(phone)
        for text in (draft.first_name, draft.last_name, draft.display_name, email.address,
                     *(p.number for p in draft.phones)):
            assert not unsafe(text), text
        assert "\x00" not in draft.notes
        for special in draft.special_dates:
            assert special.year is None or 1800 <= special.year <= 2200
    exports(services, folder)
    services.import_export.undo_last_import() if result.created else None


def exports(services: Services, folder: Path) -> None:
    service = services.import_export
    service.export_csv(folder / "out.csv")
    for version in ("3.0", "4.0"):
        service.export_vcard(folder / f"out{version}.vcf", version=version)
        again = parse_vcards((folder / f"out{version}.vcf").read_bytes())
        assert len(again.drafts) == services.customers.total()
    service.export_ics(folder / "out.ics", now=NOW)


hostile_files = st.one_of(csv_file(), vcard_file())


def budget(examples: int) -> settings:
    """The examples' settings: no deadline (imports vary), no example database in the
    repository, the same examples every normal run, and no shrinking (see PHASES)."""
    return settings(max_examples=examples, deadline=None, database=None, derandomize=not LONG,
                    phases=PHASES, suppress_health_check=[
                        HealthCheck.too_slow, HealthCheck.data_too_large,
                        HealthCheck.function_scoped_fixture])


@pytest.mark.timeout(0 if LONG else 120)
@budget(EXAMPLES)
@given(hostile=hostile_files, skip_invalid=st.booleans())
def test_hostile_imports_keep_the_invariants(home: Path, hostile: HostileFile,
                                             skip_invalid: bool) -> None:
    services = SERVICES.get(home)
    check_import(services, home, hostile, skip_invalid)


class _Services:
    """One database for all examples (opening one per example would take the budget)."""

    def __init__(self) -> None:
        self.opened: dict[Path, Services] = {}

    def get(self, folder: Path) -> Services:
        if folder not in self.opened:
            self.opened[folder] = open_services(f"sqlite:///{folder / 'crm.sqlite3'}",
                                                folder / "backups", FixedClock(NOW))
        return self.opened[folder]


SERVICES = _Services()


@pytest.mark.timeout(0 if LONG else 120)
@budget(CLI_EXAMPLES)
@given(hostile=hostile_files, skip_invalid=st.booleans())
def test_hostile_imports_through_the_command_line(cli_home: Path, hostile: HostileFile,
                                                  skip_invalid: bool) -> None:
    path = cli_home.parent / hostile.name
    path.write_bytes(hostile.data)
    database = cli_home / "crmcompanion.sqlite3"
    before = dump_file(database)
    done = crm(cli_home, "import", str(path), *(["--skip-invalid"] if skip_invalid else []))
    assert done.returncode in (0, 1, 2), done.stderr
    assert b"Traceback" not in done.stderr
    assert b"\x1b" not in done.stderr and b"\x00" not in done.stderr
    if done.returncode == 1:
        assert dump_file(database) == before
        return
    out = crm(cli_home, "export", "--format", "ics", "-o", str(cli_home.parent / "out.ics"))
    assert out.returncode == 0, out.stderr
    services = open_services(f"sqlite:///{database}", None, FixedClock(NOW))
    try:
        exports(services, cli_home.parent)
        if b"Imported 0 " not in done.stderr:
            services.import_export.undo_last_import()  # the next example starts alike
    finally:
        services.close()


def crm(home: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "CRMCOMPANION_HOME": str(home), "CRMCOMPANION_NOW": "2026-11-22T10:30",
           "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "crmcompanion", *args], env=env,
                          capture_output=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def cli_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("cli") / "home"
    assert crm(home, "demo", "--customers", "5").returncode == 0
    return home


