"""Customer use cases: create, edit, archive, delete with undo, search, list, resolve.

Every call is one unit of work and returns plain frozen dataclasses (never ORM objects), plus
a `Changed` for calls that write, so the UI can refresh exactly what changed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from crmcompanion.core import customer as c
from crmcompanion.core.clock import Clock, SystemClock
from crmcompanion.core.errors import ConflictError, DomainError, NotFoundError, ValidationError
from crmcompanion.core.settings import DEFAULT_REGION
from crmcompanion.core.text import digits, fts_query, is_phone_query
from crmcompanion.core.validation import (
    MAX_TAG_LENGTH,
    clean_tags,
    normalise_email,
    validate_customer,
)
from crmcompanion.services.changes import Changed
from crmcompanion.services.customer_conflicts import (
    DeletedMeanwhile,
    EditConflict,
    FieldConflict,
    merge_edit,
)
from crmcompanion.store import customers as repo
from crmcompanion.store import models as m
from crmcompanion.store import snapshots  # store.transfer: imported by the deletes (issue 13)

# The list's query types are plain values; the UI takes them from here, never from the store.
from crmcompanion.store.customers import ListQuery, SortColumn
from crmcompanion.store.database import Database, utcnow

__all__ = [
    "AmbiguousCustomer",
    "ArchivedCustomers",
    "CustomerService",
    "DeletedCustomer",
    "DeletedCustomers",
    "DeletedMeanwhile",
    "EditConflict",
    "FieldConflict",
    "ListPage",
    "ListQuery",
    "Saved",
    "SortColumn",
    "TaggedCustomers",
]

logger = logging.getLogger(__name__)

MAX_CANDIDATES = 5
# SQLite row ids are signed 64-bit: a larger `#ID` cannot exist (and would overflow a query).
MAX_ROW_ID = 2**63 - 1


@dataclass(frozen=True)
class Saved:
    customer: c.Customer
    changed: Changed
    # Labels of the fields another save changed meanwhile that this one kept (an edit merged
    # over a concurrent one, see `CustomerService.update`).
    kept_theirs: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeletedCustomer:
    """What Undo needs to put a deleted customer back exactly (same id, same history)."""

    customer_id: int
    display_name: str
    snapshot: snapshots.Snapshot
    changed: Changed


@dataclass(frozen=True)
class DeletedCustomers:
    """What Undo needs to put several deleted customers back exactly, all at once."""

    customer_ids: tuple[int, ...]
    display_names: tuple[str, ...]  # in the order deleted, for messages
    snapshot: snapshots.Snapshot
    search_rows: list[dict[str, object]]
    changed: Changed

    @property
    def count(self) -> int:
        return len(self.customer_ids)


@dataclass(frozen=True)
class ArchivedCustomers:
    """A bulk archive (or unarchive) and each changed customer's archived_at before it."""

    archived: bool
    previous: dict[int, datetime | None]
    changed: Changed

    @property
    def count(self) -> int:
        return len(self.previous)


@dataclass(frozen=True)
class TaggedCustomers:
    """A tag given to several customers, with what Undo needs to take it back exactly."""

    tag: str
    previous: repo.TagTexts  # of the customers that did not have it
    changed: Changed

    @property
    def count(self) -> int:
        return len(self.previous)


@dataclass(frozen=True)
class ListPage:
    rows: list[c.CustomerRow]
    keys: list[object]  # sort value of each row, for keyset continuation


def _told_apart(customer: c.Customer) -> str:
    """`#7 Nora Brown (nora@example.com)`: the name plus what tells two namesakes apart, the
    first email, else the company, else the first phone."""
    detail = (customer.emails[0].address if customer.emails else customer.company
              or (customer.phones[0].number if customer.phones else ""))
    return f"#{customer.id} {customer.display_name}" + (f" ({detail})" if detail else "")


class AmbiguousCustomer(DomainError):
    def __init__(self, text: str, candidates: list[c.Customer]) -> None:
        self.candidates = candidates
        names = "; ".join(_told_apart(x) for x in candidates[:MAX_CANDIDATES])
        super().__init__(f"“{text}” matches several customers: {names}. Use #ID to pick one.")


def _wrong_type(where: str, value: object, expected: str) -> DomainError:
    return DomainError(
        f"Cannot save the customer: {where} is {type(value).__name__} {value!r}, "
        f"expected {expected}."
    )


def check_draft_types(draft: c.CustomerDraft) -> None:
    """Refuse a draft whose values are not the types the store writes, in one clear line.

    Validation checks what a user typed; this checks what a caller built. A form that hands
    over the string "email" where a `Channel` belongs would otherwise fail deep in the store
    (`'str' object has no attribute 'value'`) after the transaction began.
    """
    for name in ("first_name", "last_name", "display_name", "company", "notes", "source_uid"):
        value = getattr(draft, name)
        if not isinstance(value, str):
            raise _wrong_type(name.replace("_", " "), value, "str")
    enums: tuple[tuple[str, object, type, bool], ...] = (
        ("status", draft.status, c.Status, False),
        ("kind", draft.kind, c.Kind, False),
        ("preferred channel", draft.preferred_channel, c.Channel, True),
    )
    for where, value, enum, optional in enums:
        if not (isinstance(value, enum) or (optional and value is None)):
            raise _wrong_type(where, value, enum.__name__ + (" or None" if optional else ""))
    if not isinstance(draft.key_account, bool):
        raise _wrong_type("key account", draft.key_account, "bool")
    if draft.customer_since is not None and (
        not isinstance(draft.customer_since, date) or isinstance(draft.customer_since, datetime)
    ):
        raise _wrong_type("customer since", draft.customer_since, "date or None")
    if not isinstance(draft.address, c.PostalAddress):
        raise _wrong_type("address", draft.address, "PostalAddress")
    for field_name in ("street", "city", "region", "postcode", "country"):
        value = getattr(draft.address, field_name)
        if not isinstance(value, str):
            raise _wrong_type(f"address {field_name}", value, "str")
    for number, tag in enumerate(draft.tags, 1):
        if not isinstance(tag, str):
            raise _wrong_type(f"tag {number}", tag, "str")
    for group, kind, text in (("email", c.EmailAddress, "address"),
                              ("phone", c.PhoneNumber, "number")):
        for number, item in enumerate(getattr(draft, group + "s"), 1):
            if not isinstance(item, kind):
                raise _wrong_type(f"{group} {number}", item, kind.__name__)
            for part in (text, "label"):
                if not isinstance(getattr(item, part), str):
                    raise _wrong_type(f"{group} {number} {part}", getattr(item, part), "str")
    for number, special in enumerate(draft.special_dates, 1):
        if not isinstance(special, c.SpecialDate):
            raise _wrong_type(f"special date {number}", special, "SpecialDate")
        if not isinstance(special.kind, c.SpecialDateKind):
            raise _wrong_type(f"special date {number} kind", special.kind, "SpecialDateKind")
        for part in ("month", "day", "year"):
            value = getattr(special, part)
            if not (isinstance(value, int) and not isinstance(value, bool)) and not (
                part == "year" and value is None
            ):
                raise _wrong_type(f"special date {number} {part}", value, "int")
        if not isinstance(special.label, str):
            raise _wrong_type(f"special date {number} label", special.label, "str")


def same_list(a: ListQuery, b: ListQuery) -> bool:
    """Whether two list queries show the same rows in the same order: the same filters and
    sort, and searches of the same words (a space or a full stop typed after a word changes
    the text, not what is searched: "sofia " lists what "sofia" lists)."""
    if replace(a, search="") != replace(b, search=""):
        return False
    if a.search == b.search:
        return True
    # A text with nothing searchable in it lists nobody, an empty one everybody.
    return (bool(a.search.strip()) == bool(b.search.strip())
            and fts_query(a.search) == fts_query(b.search))


class CustomerService:
    def __init__(
        self,
        db: Database,
        clock: Clock | None = None,
        staff_id: int | None = None,
        region: Callable[[], str] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock or SystemClock()
        self._staff_id = staff_id
        self._region = region or (lambda: DEFAULT_REGION.default)

    # --- reading ---------------------------------------------------------------------
    def get(self, customer_id: int) -> c.Customer:
        with self._db.read() as session:
            found = repo.load_customers(session, [customer_id])
        if not found:
            raise NotFoundError(f"Customer #{customer_id} does not exist.")
        return found[0]

    def get_many(self, customer_ids: list[int]) -> dict[int, c.Customer]:
        """The customers of these ids that exist, by id, in a few queries whatever the count
        (one read; ids in chunks that SQLite's parameter limit takes)."""
        ids = list(dict.fromkeys(customer_ids))
        found: dict[int, c.Customer] = {}
        with self._db.read() as session:
            for start in range(0, len(ids), snapshots.IN_CHUNK):
                for record in repo.load_customers(session, ids[start:start + snapshots.IN_CHUNK]):
                    found[record.id] = record
        return found

    def search(
        self, text: str, limit: int = 50, include_archived: bool = False
    ) -> list[c.Customer]:
        """Ranked matches: every word a prefix of some name, company, email, phone, tag, note."""
        with self._db.read() as session:
            ids = repo.search_ids(session, text, limit, include_archived)
            return repo.load_customers(session, ids)

    def search_total(self, text: str, include_archived: bool = False) -> int:
        """How many customers `search` would find without its limit."""
        return self.count(ListQuery(search=text, archived=None if include_archived else False))

    def list_customers(self, query: ListQuery, limit: int) -> list[c.Customer]:
        """The first `limit` customers of the list `query` describes, in its order, as whole
        records (the list's own rows carry only what the table shows)."""
        with self._db.read() as session:
            rows = repo.page_after(session, query, None, limit)
            return repo.load_customers(session, [row.id for row, _key in rows])

    def count(self, query: ListQuery) -> int:
        with self._db.read() as session:
            return repo.count_customers(session, query)

    def page_at(self, query: ListQuery, offset: int, limit: int, total: int | None) -> ListPage:
        """Rows [offset, offset+limit) of the list; `total` its count, None if not known yet."""
        with self._db.read() as session:
            pairs = repo.page_at(session, query, offset, limit, total, self._clock.today())
        return ListPage([p[0] for p in pairs], [p[1] for p in pairs])

    def page_uncounted(self, query: ListQuery, offset: int, limit: int
                       ) -> tuple[ListPage, int | None]:
        """Rows [offset, offset+limit) of a list not counted yet, and its count when reading
        them told it (a page that is not full, a search with few matches), else None."""
        with self._db.read() as session:
            pairs, total = repo.page_uncounted(session, query, offset, limit,
                                               self._clock.today())
        return ListPage([p[0] for p in pairs], [p[1] for p in pairs]), total

    def first_page(self, query: ListQuery, limit: int) -> tuple[ListPage, int | None]:
        """A new query's first `limit` rows: what the list shows on each keystroke. Its count
        comes with them only when reading them told it; None: count it afterwards (`count`),
        off the GUI thread, while the rows are shown (issue 13)."""
        return self.page_uncounted(query, 0, limit)

    def page_after(
        self, query: ListQuery, after: tuple[object, int] | None, limit: int
    ) -> ListPage:
        with self._db.read() as session:
            pairs = repo.page_after(session, query, after, limit)
        return ListPage([p[0] for p in pairs], [p[1] for p in pairs])

    def position_of(self, query: ListQuery, customer_id: int) -> int | None:
        with self._db.read() as session:
            return repo.position_of(session, query, customer_id)

    def positions_of(self, query: ListQuery, ids: list[int]) -> dict[int, int]:
        """Row index of each of `ids` still listed (one pass over the list's index)."""
        with self._db.read() as session:
            return repo.positions_of(session, query, ids)

    def ids_in_rows(self, query: ListQuery, rows: list[tuple[int, int]], total: int | None
                    ) -> list[int]:
        """Customer ids of the list rows in each [first, last] range, in list order: a range
        selected over rows the list never fetched, resolved from the sort index alone."""
        out: list[int] = []
        with self._db.read() as session:
            for first, last in sorted(rows):
                out += repo.ids_at(session, query, first, last - first + 1, total)
        return list(dict.fromkeys(out))  # overlapping ranges name a customer once

    def tags(self) -> list[tuple[str, int]]:
        """Every tag with how many customers carry it, alphabetically."""
        with self._db.read() as session:
            return repo.all_tags(session)

    def total(self) -> int:
        return self.count(ListQuery(archived=None))

    def resolve(self, text: str) -> c.Customer:
        """`--customer TEXT`: #ID, else exact email or phone, else folded name, else one hit."""
        text = text.strip()
        if not text:
            raise DomainError("No customer given.")
        with self._db.read() as session:
            ids = self._resolve_ids(session, text)
            if len(ids) == 1:
                return repo.load_customers(session, ids)[0]
            if not ids:
                hits = repo.search_ids(session, text, MAX_CANDIDATES + 1, include_archived=True)
                if len(hits) == 1:
                    return repo.load_customers(session, hits)[0]
                if not hits:
                    raise NotFoundError(f"No customer matches “{text}”.")
                ids = hits
            raise AmbiguousCustomer(text, repo.load_customers(session, ids[:MAX_CANDIDATES]))

    def _resolve_ids(self, session: Session, text: str) -> list[int]:
        if text.startswith("#") and text[1:].isdigit():
            customer_id = int(text[1:])
            if not 1 <= customer_id <= MAX_ROW_ID or not repo.customer_exists(
                session, customer_id
            ):
                raise NotFoundError(f"Customer {text} does not exist.")
            return [customer_id]
        if "@" in text:
            ids = repo.find_by_email(session, normalise_email(text))
            if ids:
                return ids
        if is_phone_query(text):
            from crmcompanion.core.validation import normalise_phone

            candidates = {digits(text)}
            with contextlib.suppress(ValueError):  # not a full number: match digits as typed
                candidates.add(digits(normalise_phone(text, self._region())))
            for phone_digits in candidates:
                ids = repo.find_by_phone_digits(session, phone_digits)
                if ids:
                    return ids
        return repo.find_by_folded_name(session, text)

    # --- writing ---------------------------------------------------------------------
    def create(self, draft: c.CustomerDraft) -> Saved:
        check_draft_types(draft)
        clean = validate_customer(draft, self._region())
        now = utcnow()
        with self._db.write() as session:
            self._check_uid(session, clean.source_uid, None)
            row = m.Customer(
                created_at=now,
                updated_at=now,
                created_by_id=self._staff_id,
                updated_by_id=self._staff_id,
            )
            repo.apply_draft(row, clean)
            session.add(row)
            session.flush()
            repo.set_customer_tags(session, row.id, clean.tags)
            repo.index_customer(session, row.id, clean)
            customer_id = row.id
            session.flush()
            record = repo.load_customers(session, [customer_id])[0]
        logger.info("Created customer #%s", customer_id)
        changed = Changed(
            customers=frozenset({customer_id}), customer_list=True, tags=bool(clean.tags)
        )
        return Saved(record, changed)

    def update(self, customer_id: int, draft: c.CustomerDraft, expected_version: int,
               base: c.CustomerDraft | None = None) -> Saved:
        """Save an edit made on version `expected_version` of the customer, whose form was
        `base` when opened. If someone saved the customer since, the edit is merged three
        ways (services.customer_conflicts): fields only they changed are kept, fields only I
        changed are applied, and fields we both changed differently raise `EditConflict`
        with theirs and mine, saving nothing. `DeletedMeanwhile` if it is gone."""
        check_draft_types(draft)
        clean = validate_customer(draft, self._region())
        kept_theirs: tuple[str, ...] = ()
        try:
            with self._db.write() as session:
                row = self._row_for_update(session, customer_id, lock=True,
                                           name=clean.effective_display_name())
                if row.version != expected_version:
                    theirs = repo.load_customers(session, [customer_id])[0]
                    merge = merge_edit(theirs, base, clean, self._region())
                    if merge.conflicts:
                        raise EditConflict(theirs, merge)
                    logger.info("Merged an edit of customer #%s over version %s (kept theirs: "
                                "%s)", customer_id, row.version, ", ".join(merge.kept_theirs))
                    clean = validate_customer(merge.merged, self._region())
                    kept_theirs = merge.kept_theirs
                self._check_uid(session, clean.source_uid, customer_id)
                repo.apply_draft(row, clean)
                repo.touch(row, self._staff_id, utcnow())
                session.flush()
                repo.set_customer_tags(session, customer_id, clean.tags)
                repo.index_customer(session, customer_id, clean)
                session.flush()
                record = repo.load_customers(session, [customer_id])[0]
        except StaleDataError as exc:
            # Cannot happen with the row locked (and SQLite writes one at a time); if an
            # engine lets it through, still nothing is written over.
            raise ConflictError("This customer was changed elsewhere at the same moment; "
                                "save again to see what changed.") from exc
        changed = Changed(customers=frozenset({customer_id}), customer_list=True, tags=True)
        return Saved(record, changed, kept_theirs)

    @staticmethod
    def _check_uid(session: Session, uid: str, customer_id: int | None) -> None:
        # A UID names one customer (imports match by it): never a second one.
        if repo.uid_taken(session, uid, customer_id):
            raise ValidationError({"source_uid": f"Another customer already has the UID {uid}."})

    def set_archived(self, customer_id: int, archived: bool) -> Saved:
        with self._db.write() as session:
            row = self._row_for_update(session, customer_id)
            row.archived_at = utcnow() if archived else None
            repo.touch(row, self._staff_id, utcnow())
            session.flush()
            record = repo.load_customers(session, [customer_id])[0]
        return Saved(record, Changed(customers=frozenset({customer_id}), customer_list=True))

    def delete(self, customer_id: int) -> DeletedCustomer:
        from crmcompanion.store import transfer

        with self._db.write() as session:
            row = self._row_for_update(session, customer_id)
            name = row.display_name
            snapshot = snapshots.snapshot_customer(session, customer_id)
            session.expunge(row)
            transfer.delete_customers(session, [customer_id])  # its search row too
        logger.info("Deleted customer #%s", customer_id)
        changed = Changed(customers=frozenset({customer_id}), customer_list=True, tags=True)
        return DeletedCustomer(customer_id, name, snapshot, changed)

    def undo_delete(self, deleted: DeletedCustomer) -> Saved:
        with self._db.write() as session:
            if repo.customer_exists(session, deleted.customer_id):
                raise DomainError(f"{deleted.display_name} is already back.")
            snapshots.restore_snapshot(session, deleted.snapshot)
            session.flush()
            record = repo.load_customers(session, [deleted.customer_id])[0]
            repo.index_customer(session, record.id, record.to_draft())
        return Saved(record, deleted.changed)

    # --- several at once (a multi-selection in the list) ----------------------------------
    def delete_many(self, customer_ids: list[int]) -> DeletedCustomers:
        """Delete these customers in one unit of work; Undo puts every row back."""
        from crmcompanion.store import transfer

        ids = list(dict.fromkeys(customer_ids))
        with self._db.write() as session:
            names = transfer.display_names(session, ids)
            missing = [cid for cid in ids if cid not in names]
            if missing:
                raise NotFoundError(
                    f"Customer #{missing[0]} does not exist (it may have been deleted)."
                )
            snapshot = snapshots.snapshot_customers(session, ids)
            search = repo.search_rows(session, ids)
            transfer.delete_customers(session, ids)  # their search rows too
        logger.info("Deleted %d customers", len(ids))
        changed = Changed(customers=frozenset(ids), customer_list=True, tags=True)
        return DeletedCustomers(tuple(ids), tuple(names[cid] for cid in ids), snapshot, search,
                                changed)

    def undo_delete_many(self, deleted: DeletedCustomers) -> Changed:
        from crmcompanion.store import transfer

        ids = list(deleted.customer_ids)
        with self._db.write() as session:
            if transfer.display_names(session, ids):
                raise DomainError("These customers are already back.")
            snapshots.restore_snapshot(session, deleted.snapshot)
            repo.restore_search_rows(session, deleted.search_rows)
        logger.info("Restored %d deleted customers", len(ids))
        return deleted.changed

    def set_archived_many(self, customer_ids: list[int], archived: bool) -> ArchivedCustomers:
        """Archive (or unarchive) these customers; those already so are left untouched."""
        ids = list(dict.fromkeys(customer_ids))
        now = utcnow()
        previous: dict[int, datetime | None] = {}
        with self._db.write() as session:
            for start in range(0, len(ids), snapshots.IN_CHUNK):
                part = ids[start:start + snapshots.IN_CHUNK]
                already = (m.Customer.archived_at.is_not(None) if archived
                           else m.Customer.archived_at.is_(None))
                rows = session.execute(select(m.Customer.id, m.Customer.archived_at)
                                       .where(m.Customer.id.in_(part), ~already))
                previous.update((cid, archived_at) for cid, archived_at in rows)
            self._set_archived_at(session, {cid: now if archived else None for cid in previous},
                                  now)
        changed = Changed(customers=frozenset(previous), customer_list=True)
        return ArchivedCustomers(archived, previous, changed)

    def undo_archive_many(self, done: ArchivedCustomers) -> Changed:
        with self._db.write() as session:
            self._set_archived_at(session, done.previous, utcnow())
        return done.changed

    def add_tag_many(self, customer_ids: list[int], tag: str) -> TaggedCustomers:
        """Give `tag` to these customers (those that have it are left as they are)."""
        cleaned = clean_tags((tag,))
        if not cleaned:
            raise ValidationError({"tags": "Enter a tag."})
        if len(cleaned[0]) > MAX_TAG_LENGTH:
            raise ValidationError({"tags": f"A tag has at most {MAX_TAG_LENGTH} characters."})
        ids = list(dict.fromkeys(customer_ids))
        now = utcnow()
        with self._db.write() as session:
            stored, previous = repo.add_tag(session, ids, cleaned[0])
            self._touch_many(session, list(previous), now)
        changed = Changed(customers=frozenset(previous), customer_list=True, tags=True)
        return TaggedCustomers(stored, previous, changed)

    def undo_add_tag_many(self, tagged: TaggedCustomers) -> Changed:
        with self._db.write() as session:
            repo.undo_add_tag(session, tagged.tag, tagged.previous)
            self._touch_many(session, list(tagged.previous), utcnow())
        return tagged.changed

    def _touch_many(self, session: Session, ids: list[int], now: datetime) -> None:
        # A Core UPDATE (no ORM rows): the version bump keeps an editor opened before this
        # from saving over it, as an ORM flush of one customer does.
        for start in range(0, len(ids), snapshots.IN_CHUNK):
            session.execute(
                update(m.Customer)
                .where(m.Customer.id.in_(ids[start:start + snapshots.IN_CHUNK]))
                .values(updated_at=now, updated_by_id=self._staff_id,
                        version=m.Customer.version + 1)
                .execution_options(synchronize_session=False)
            )

    def _set_archived_at(self, session: Session, values: dict[int, datetime | None],
                         now: datetime) -> None:
        by_value: dict[datetime | None, list[int]] = {}
        for cid, value in values.items():
            by_value.setdefault(value, []).append(cid)
        for value, ids in by_value.items():
            for start in range(0, len(ids), snapshots.IN_CHUNK):
                session.execute(
                    update(m.Customer)
                    .where(m.Customer.id.in_(ids[start:start + snapshots.IN_CHUNK]))
                    .values(archived_at=value)
                    .execution_options(synchronize_session=False)
                )
        self._touch_many(session, list(values), now)

    def _row_for_update(self, session: Session, customer_id: int, *, lock: bool = False,
                        name: str = "") -> m.Customer:
        """The customer's row with its lists; `lock` holds it (SELECT ... FOR UPDATE, which
        SQLite, writing one transaction at a time, leaves out) so no other save can slip in
        between reading its version and writing. `name` makes a missing row a
        `DeletedMeanwhile` (an edit whose customer is gone)."""
        statement = (
            select(m.Customer)
            .where(m.Customer.id == customer_id)
            .options(
                selectinload(m.Customer.emails),
                selectinload(m.Customer.phones),
                selectinload(m.Customer.special_dates),
            )
        )
        row = session.scalar(statement.with_for_update() if lock else statement)
        if row is None:
            if name:
                raise DeletedMeanwhile(customer_id, name)
            raise NotFoundError(
                f"Customer #{customer_id} does not exist (it may have been deleted)."
            )
        return row
