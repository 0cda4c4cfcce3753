"""Public reviews (social listening): import review exports as feedback items.

Google Business Profile, Trustpilot and most review tools export CSV or JSON with a date, a
rating, the author, the text and sometimes the site; their headers differ ("starRating",
"Review date", "comment"), so headers are recognised ignoring case and punctuation. Each
review becomes a feedback item of source "public review": praise for 4-5 stars, a complaint
for 1-2, feedback otherwise, the rating as its satisfaction. It is linked to a customer when
the author is a stored email or exactly one customer's name (unless linking is off), else kept
unlinked with the author's name. A name match can be the wrong person, so the app shows the
proposed links first (`ReviewImport.proposed`, from a dry run) and imports with the links the
owner kept (`confirmed`); the command line links every match without asking (`--no-link`
keeps all unlinked).

Like the contacts import: the bytes go through the import's one sanitising step
(`core.import_text`: encoding detection, control characters removed, undecodable bytes
refused), every bad row is reported with its line and reason, and a file with any bad row
writes nothing (all-or-nothing).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from crmcompanion.core.clock import Clock
from crmcompanion.core.errors import DomainError
from crmcompanion.core.feedback import MAX_FEEDBACK_TEXT, FeedbackType, Source, initial_status
from crmcompanion.core.import_text import decode_file, multi_line, one_line, printable
from crmcompanion.services.changes import Changed
from crmcompanion.services.feedback_similar import Vectors
from crmcompanion.store import feedback as repo
from crmcompanion.store import feedback_rhythm
from crmcompanion.store import models as m
from crmcompanion.store.database import Database

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 200 * 1024 * 1024

# Recognised headers, as keys: lowercase with everything but letters and digits removed.
HEADERS: Mapping[str, str] = {
    "date": "date", "reviewdate": "date", "createtime": "date", "created": "date",
    "rating": "rating", "stars": "rating", "starrating": "rating",
    "author": "author", "reviewer": "author", "name": "author", "email": "email",
    "reviewername": "author", "authorname": "author",
    "text": "text", "comment": "text", "review": "text", "content": "text",
    "reviewtext": "text",
    "source": "source", "site": "source", "platform": "source",
}
# Google Business Profile writes ratings as words.
_WORD_RATINGS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_SURROGATES = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str


@dataclass(frozen=True)
class ProposedLink:
    """A review whose author matches a customer: by their stored email, or by their exact
    name (the one a person should look at twice)."""

    line: int  # the review's line (CSV) or entry (JSON) in the file
    author: str
    customer_id: int
    customer: str
    by: str  # "email" or "name"
    rating: int | None
    excerpt: str


@dataclass(frozen=True)
class ReviewImport:
    """What an import did (or, dry run / refused, would do)."""

    rows: int
    created: int
    linked: int
    unlinked: int
    rejected: tuple[Rejected, ...]
    written: bool
    changed: Changed = field(default_factory=Changed)
    item_ids: tuple[int, ...] = ()
    proposed: tuple[ProposedLink, ...] = ()  # every match, in file order

    def as_json(self) -> dict[str, object]:
        return {"rows": self.rows, "created": self.created, "linked": self.linked,
                "unlinked": self.unlinked,
                "rejected": [{"line": r.line, "reason": r.reason} for r in self.rejected],
                "written": self.written}


@dataclass(frozen=True)
class _Review:
    line: int
    created: datetime  # naive UTC
    rating: int | None
    author: str
    email: str
    text: str
    site: str


def _key(header: str) -> str:
    return re.sub(r"[^0-9a-z]", "", header.casefold())


def _rating(value: str) -> int | None:
    cleaned = value.strip().casefold()
    if not cleaned:
        return None
    if cleaned in _WORD_RATINGS:
        return _WORD_RATINGS[cleaned]
    cleaned = cleaned.split("/")[0].strip()  # "4/5"
    try:
        number = float(cleaned)
    except ValueError:
        raise ValueError(f"the rating “{printable(value, 20)}” is not a number from 1 to "
                         "5") from None
    if not number.is_integer() or not 1 <= number <= 5:
        raise ValueError(f"the rating “{printable(value, 20)}” is not a whole number from 1 "
                         "to 5")
    return int(number)


def _moment(value: str, now: datetime) -> datetime:
    cleaned = value.strip()
    if not cleaned:
        return now
    try:
        parsed = datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(cleaned), datetime.min.time())
        except ValueError:
            raise ValueError(f"the date “{printable(cleaned, 40)}” is not a date like "
                             "2026-11-03") from None
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()
    result = parsed.astimezone(UTC).replace(tzinfo=None)
    if not 1990 <= result.year <= now.year + 1:
        raise ValueError(f"the date “{printable(cleaned, 40)}” is out of range")
    return result


def _records_from_json(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DomainError(f"The file is not valid JSON (line {exc.lineno}: {exc.msg}).") \
            from None
    if isinstance(data, dict):
        found = next((v for k, v in data.items() if _key(k) in ("reviews", "items", "data")
                      and isinstance(v, list)), None)
        if found is None:
            raise DomainError("The JSON file holds no list of reviews (expected a list, or "
                              "an object with “reviews”).")
        data = found
    if not isinstance(data, list):
        raise DomainError("The JSON file holds no list of reviews.")
    for index, entry in enumerate(data, start=1):
        if not isinstance(entry, dict):
            yield index, {}
            continue
        flat: dict[str, Any] = {}
        for name, value in entry.items():
            if isinstance(value, dict):  # Google: "reviewer": {"displayName": ...}
                inner = value.get("displayName") or value.get("name") or value.get("email")
                flat[name] = "" if inner is None else inner
            else:
                flat[name] = value
        yield index, flat


def _records_from_csv(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    header = next(reader, None)
    if header is None:
        return
    start = reader.line_num + 1
    for row in reader:
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        yield line, dict(zip(header, row, strict=False))


def _columns(names: list[str]) -> dict[str, str]:
    """Original header -> field, for the recognised headers (the first of each field wins)."""
    found: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        target = HEADERS.get(_key(name))
        if target is not None and target not in taken:
            found[name] = target
            taken.add(target)
    return found


def _review(line: int, record: dict[str, Any], now: datetime) -> _Review:
    """One review from one record, sanitised; ValueError with the reason otherwise."""
    if not record:
        raise ValueError("the entry is not a review (expected an object)")
    fields = {target: "" if record[name] is None else str(record[name])
              for name, target in _columns(list(record)).items()}
    for name, value in fields.items():
        if "\x00" in value:
            raise ValueError(f"the {name} contains a NUL byte")
        if _SURROGATES.search(value):
            raise ValueError(f"the {name} holds a byte that is not UTF-8")
    text = multi_line(fields.get("text", "")).strip()
    if not text:
        raise ValueError("the review has no text")
    if len(text) > MAX_FEEDBACK_TEXT:
        raise ValueError(f"the text is longer than {MAX_FEEDBACK_TEXT:,} characters")
    author = one_line(fields.get("author", "")).strip()
    email = one_line(fields.get("email", "")).strip()
    if not email and "@" in author and " " not in author:
        email = author
    return _Review(line, _moment(fields.get("date", ""), now), _rating(fields.get("rating", "")),
                   author[:200], email[:320], text,
                   one_line(fields.get("source", "")).strip()[:100])


def read_reviews(path: str | os.PathLike[str], now: datetime
                 ) -> tuple[list[_Review], list[Rejected], int]:
    """The file's reviews, its rejected rows and its row count (raises DomainError for a
    file that cannot be read at all)."""
    source = Path(path)
    try:
        size = source.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DomainError(f"{source.name} is larger than {MAX_FILE_BYTES // 2**20} MB.")
        data = source.read_bytes()
    except OSError as exc:
        raise DomainError(f"Cannot read {source}: {exc.strerror or exc}.") from None
    text, _ = decode_file(data)
    stripped = text.lstrip()
    is_json = source.suffix.casefold() == ".json" or stripped[:1] in ("[", "{")
    records = _records_from_json(text) if is_json else _records_from_csv(text)
    reviews: list[_Review] = []
    rejected: list[Rejected] = []
    rows = 0
    header_checked = False
    for line, record in records:
        rows += 1
        if not header_checked and not is_json:
            header_checked = True
            if "text" not in _columns(list(record)).values():
                raise DomainError("No review text column: the header needs one of text, "
                                  "comment, review or content.")
        try:
            reviews.append(_review(line, record, now))
        except ValueError as exc:
            rejected.append(Rejected(line, str(exc)))
    return reviews, rejected, rows


def _kind(rating: int | None) -> FeedbackType:
    if rating is None or rating == 3:
        return FeedbackType.FEEDBACK
    return FeedbackType.PRAISE if rating >= 4 else FeedbackType.COMPLAINT


def _matcher(session: Any) -> Callable[[_Review], tuple[int, str, str] | None]:
    """Finds the customer a review's author is: a stored email, else exactly one customer
    whose name is the author's (ignoring case); (id, display name, "email" or "name")."""
    def match(review: _Review) -> tuple[int, str, str] | None:
        if review.email:
            found = list(session.execute(
                select(m.CustomerEmail.customer_id, m.Customer.display_name)
                .join(m.Customer, m.Customer.id == m.CustomerEmail.customer_id)
                .where(m.CustomerEmail.address_key == review.email.casefold()).limit(2)))
            if len({cid for cid, _ in found}) == 1:
                return found[0][0], found[0][1], "email"
        if review.author and "@" not in review.author:
            found = list(session.execute(
                select(m.Customer.id, m.Customer.display_name).where(
                    func.lower(m.Customer.display_name) == review.author.casefold(),
                    m.Customer.archived_at.is_(None)).limit(2)))
            if len(found) == 1:
                return found[0][0], found[0][1], "name"
        return None
    return match


def _excerpt(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1].rstrip() + "…"


def import_reviews(
    db: Database,
    clock: Clock,
    staff_id: int | None,
    path: str | os.PathLike[str],
    *,
    dry_run: bool = False,
    link: bool = True,
    confirmed: Mapping[int, int] | None = None,
    vectors: Vectors | None = None,
) -> ReviewImport:
    """Import a review export (CSV or JSON): all rows or none.

    `confirmed` (the app, after showing `proposed`): line -> customer id of the links the
    owner kept; a review is linked only when its match is still that customer, every other
    review is imported unlinked (so a match the owner never saw is never made). None (the
    command line): every match is linked without asking."""
    now = clock.now().astimezone(UTC).replace(tzinfo=None)
    reviews, rejected, rows = read_reviews(path, now)
    with db.read() as session:
        match = _matcher(session)
        matches = [match(r) if link else None for r in reviews]
    proposed = tuple(
        ProposedLink(r.line, r.author or r.email, found[0], found[1], found[2], r.rating,
                     _excerpt(r.text))
        for r, found in zip(reviews, matches, strict=True) if found is not None)
    links = [
        None if found is None or (confirmed is not None
                                  and confirmed.get(r.line) != found[0]) else found[0]
        for r, found in zip(reviews, matches, strict=True)]
    linked = sum(1 for cid in links if cid is not None)
    result = ReviewImport(rows, len(reviews), linked, len(reviews) - linked, tuple(rejected),
                          False, proposed=proposed)
    if rejected or dry_run or not reviews:
        if rejected:
            logger.info("Review import refused: %d of %d rows invalid", len(rejected), rows)
        return result
    encoded = (vectors or Vectors()).encode_bytes([r.text for r in reviews])
    customers: set[int] = set()
    created: list[int] = []
    with db.write() as session:
        for index, (review, customer_id) in enumerate(zip(reviews, links, strict=True)):
            kind = _kind(review.rating)
            row = m.FeedbackItem(
                customer_id=customer_id, kind=kind.value, text=review.text,
                satisfaction=review.rating, source=Source.PUBLIC_REVIEW.value,
                status=initial_status(kind), author_id=staff_id, reviewer=review.author,
                review_site=review.site, created_at=review.created, updated_at=now,
            )
            session.add(row)
            session.flush()
            created.append(row.id)
            if row.status is not None:
                session.add(m.FeedbackEvent(item_id=row.id, at=now, staff_id=staff_id,
                                            from_status=None, to_status=row.status,
                                            note="Imported public review"))
            if kind is FeedbackType.COMPLAINT:
                session.add(m.ComplaintDetail(item_id=row.id, severity="normal", goal=""))
            if encoded is not None:
                repo.save_vector(session, row.id, encoded[0], encoded[1][index])
            if customer_id is not None:
                customers.add(customer_id)
        # A review is feedback received: the linked customers' ask rhythm counts from it.
        feedback_rhythm.refresh_customers(session, customers)
    logger.info("Imported %d public reviews (%d linked)", len(reviews), linked)
    changed = Changed(customers=frozenset(customers), feedback=True, touchpoints=bool(customers))
    return ReviewImport(rows, len(reviews), linked, len(reviews) - linked, (), True, changed,
                        tuple(created), proposed)
