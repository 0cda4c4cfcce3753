"""Duplicate customers: finding likely pairs, merging two into one field by field, undo.

Why a service of its own: a merge is the one operation that moves rows between customers, so it
must follow EVERY foreign key that points to customers. `MERGE_POLICY` names, per table, what a
merge does with the other customer's rows; `merge` refuses to run when the schema holds a table
with a foreign key to customers that the policy does not name (and a test iterates the metadata
for the same reason), so a table added by a later feature can never be skipped silently.

Finding never compares all pairs (100,000 customers would be 5e9 comparisons): exact keys
(normalised email, E.164 phone, folded name) are grouped by SQL, and "similar" names are only
compared inside small blocks (same folded last name, first names within one edit through a
deletion-neighbourhood key; same first three letters of the folded name at the same company).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Final, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmcompanion.core import customer as c
from crmcompanion.core.clock import Clock
from crmcompanion.core.errors import ConflictError, DomainError, NotFoundError, ValidationError
from crmcompanion.core.text import digits
from crmcompanion.core.validation import validate_customer
from crmcompanion.services.changes import Changed
from crmcompanion.store import customers as repo
from crmcompanion.store import models as m
from crmcompanion.store import snapshots, transfer
from crmcompanion.store import touchpoints as tp_store
from crmcompanion.store.database import Database, utcnow
from crmcompanion.store.transfer import PLACEHOLDER_UID

logger = logging.getLogger(__name__)

MergeChoice = Literal["keep", "other", "union"]

# Fields the merge dialog offers, in display order. The list-valued ones default to "union".
SCALAR_FIELDS: Final = (
    "first_name", "last_name", "display_name", "company", "address", "status", "kind",
    "key_account", "preferred_channel", "customer_since", "notes", "source_uid",
    "do_not_contact", "cadence_days",
)
LIST_FIELDS: Final = ("emails", "phones", "tags", "special_dates")
MERGE_FIELDS: Final = SCALAR_FIELDS + LIST_FIELDS

# What a merge does with the other customer's rows, per table with a foreign key to customers:
#   profile  - part of the profile: rebuilt from the merged draft (other's rows go with it)
#   repoint  - customer_id set to the kept customer (history, follow-ups)
#   union    - re-pointed unless the kept customer already has the same key (then dropped)
#   rekey    - re-pointed and the occurrence key's customer part rewritten; a clash is dropped
#   derived  - recomputed for the kept customer; the other's rows go with it
#   drop     - deleted with the other customer (e.g. "created by import" links)
MERGE_POLICY: Final[Mapping[str, str]] = {
    "customer_emails": "profile",
    "customer_phones": "profile",
    "customer_tags": "profile",
    "special_dates": "profile",
    "interactions": "repoint",
    "follow_ups": "repoint",
    "fired_reminders": "repoint",
    "touchpoint_opt_outs": "union",
    "touchpoint_states": "rekey",
    "contact_rhythm": "derived",
    "touchpoint_sources": "derived",
    "import_batch_customers": "drop",
    # Feedback (issue 15): the other's feedback, complaints and ideas move over; an idea both
    # asked for keeps one requester row.
    "feedback_items": "repoint",
    "idea_requesters": "union",
    # When each was asked for feedback (migration 0011): the merged customer was asked then.
    "feedback_asks": "repoint",
    # Insights (issue 16): the health row is recomputed (the kept customer's own row is
    # marked for it by the edit the merge makes); the other's row goes with the other.
    "customer_health": "derived",
}


@dataclass(frozen=True)
class DuplicateReason:
    """Why two customers look like the same person: kind is "email", "phone", "same_name" or
    "similar_name"; value is what matched (the address, the E.164 number, the folded name)."""

    kind: str
    value: str


@dataclass(frozen=True)
class DuplicatePair:
    first_id: int
    second_id: int
    reasons: tuple[DuplicateReason, ...]


@dataclass(frozen=True)
class DuplicateCandidate:
    """One customer of a group, with what the list of groups shows."""

    id: int
    display_name: str
    company: str
    email: str
    phone: str
    archived: bool


@dataclass(frozen=True)
class DuplicateGroup:
    """Customers connected by duplicate pairs (a group of three: A~B and B~C)."""

    customers: tuple[DuplicateCandidate, ...]
    pairs: tuple[DuplicatePair, ...]

    @property
    def customer_ids(self) -> tuple[int, ...]:
        return tuple(x.id for x in self.customers)

    @property
    def reason_kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.kind for p in self.pairs for r in p.reasons))


@dataclass(frozen=True)
class MergePreview:
    """Both customers as stored, for the merge dialog: which fields differ, what the default
    choice would produce."""

    keep: c.Customer
    other: c.Customer
    keep_do_not_contact: bool
    other_do_not_contact: bool
    keep_cadence_days: int | None
    other_cadence_days: int | None
    differing: tuple[str, ...]  # names from MERGE_FIELDS whose values differ
    merged: c.CustomerDraft  # the result with default choices


@dataclass(frozen=True)
class MergeResult:
    kept_id: int
    removed_id: int
    customer: c.Customer  # the kept customer after the merge
    moved: Mapping[str, int]  # table -> rows moved to the kept customer
    changed: Changed
    # What undo_merge needs: both customers exactly as they were, and the kept customer's
    # rows right after the merge (undo refuses if they changed since).
    before_keep: snapshots.Snapshot = field(repr=False, compare=False, default_factory=dict)
    before_other: snapshots.Snapshot = field(repr=False, compare=False, default_factory=dict)
    after_keep: snapshots.Snapshot = field(repr=False, compare=False, default_factory=dict)


class DuplicateService:
    """Find duplicate customers and merge them; every write is one unit of work."""

    def __init__(self, db: Database, clock: Clock, staff_id: int | None,
                 region: Callable[[], str] | None = None) -> None:
        self._db = db
        self._clock = clock
        self._staff_id = staff_id
        self._region = region or (lambda: "US")

    # --- finding ---------------------------------------------------------------------
    def find_duplicates(self, limit: int = 500) -> list[DuplicateGroup]:
        """Groups of likely duplicates, strongest evidence first (email/phone, then names)."""
        with self._db.read() as session:
            pairs = transfer.duplicate_pairs(session, excluded_uid=PLACEHOLDER_UID)
            groups = _connected(pairs)
            strong = {"email", "phone"}

            def rank(group: tuple[list[int], list[DuplicatePair]]) -> tuple[int, int]:
                ids, group_pairs = group
                has_strong = any(r.kind in strong for p in group_pairs for r in p.reasons)
                return (0 if has_strong else 1, min(ids))

            groups.sort(key=rank)
            chosen = groups[:max(0, limit)]
            wanted = sorted({cid for ids, _ in chosen for cid in ids})
            rows = transfer.duplicate_candidates(session, wanted)
        out: list[DuplicateGroup] = []
        for ids, group_pairs in chosen:
            candidates = tuple(DuplicateCandidate(*rows[cid]) for cid in sorted(ids)
                               if cid in rows)
            out.append(DuplicateGroup(candidates, tuple(group_pairs)))
        return out

    # --- merging ---------------------------------------------------------------------
    def merge_preview(self, keep_id: int, other_id: int) -> MergePreview:
        with self._db.read() as session:
            keep, other, extras = self._load_pair(session, keep_id, other_id)
        merged, _, _ = _merged(keep, other, extras, {})
        return MergePreview(
            keep=keep, other=other, keep_do_not_contact=extras[0][0],
            other_do_not_contact=extras[1][0], keep_cadence_days=extras[0][1],
            other_cadence_days=extras[1][1], differing=_differing(keep, other, extras),
            merged=merged,
        )

    def merge(self, keep_id: int, other_id: int,
              choices: Mapping[str, MergeChoice] | None = None) -> MergeResult:
        """Merge `other_id` into `keep_id`; `choices` per MERGE_FIELDS name (default: the kept
        customer's value, filled from the other when empty; list fields: union)."""
        choices = dict(choices or {})
        _check_choices(choices)
        _check_policy_covers_schema()
        now = utcnow()
        with self._db.write() as session:
            keep, other, extras = self._load_pair(session, keep_id, other_id)
            draft, do_not_contact, cadence = _merged(keep, other, extras, choices)
            clean = validate_customer(draft, self._region())
            before_keep = snapshots.snapshot_customer(session, keep_id)
            before_other = snapshots.snapshot_customer(session, other_id)
            session.expunge_all()  # only plain records from here on; no stale ORM rows
            moved = transfer.move_customer_rows(session, other_id, keep_id, MERGE_POLICY)
            transfer.delete_customers(session, [other_id])
            row = session.get(m.Customer, keep_id)
            assert row is not None
            repo.apply_draft(row, clean)
            row.do_not_contact = do_not_contact
            row.cadence_days = cadence
            repo.touch(row, self._staff_id, now)
            session.flush()
            repo.set_customer_tags(session, keep_id, clean.tags)
            repo.index_customer(session, keep_id, clean)
            session.flush()
            tp_store.refresh_last_interaction(session, keep_id)
            after_keep = snapshots.snapshot_customer(session, keep_id)
            record = repo.load_customers(session, [keep_id])[0]
        logger.info("Merged customer #%s into #%s (%s)", other_id, keep_id,
                    ", ".join(f"{k}: {v}" for k, v in moved.items() if v) or "no rows moved")
        changed = Changed(customers=frozenset({keep_id, other_id}), customer_list=True,
                          tags=True, touchpoints=True, interactions=True, reminders=True)
        return MergeResult(keep_id, other_id, record, moved, changed, before_keep, before_other,
                           after_keep)

    def undo_merge(self, result: MergeResult) -> Changed:
        """Put both customers back exactly as they were before `merge`.

        Refused (nothing changes) when the kept customer or its rows changed since the merge,
        or when the removed customer's id is taken again: undo never throws away later work.
        """
        keep_id, other_id = result.kept_id, result.removed_id
        with self._db.write() as session:
            if repo.customer_exists(session, other_id):
                raise DomainError(f"Customer #{other_id} exists again; the merge cannot be "
                                  "undone.")
            current = snapshots.snapshot_customer(session, keep_id)
            if _comparable(current) != _comparable(result.after_keep):
                raise ConflictError("The merged customer changed after the merge (edited, or "
                                    "new history); the merge can no longer be undone.")
            transfer.delete_customers(session, [keep_id])
            for snapshot in (result.before_keep, result.before_other):
                snapshots.restore_snapshot(session, _without_derived(snapshot))
            session.flush()
            tp_store.mark_dirty(session, [keep_id, other_id])
            for record in repo.load_customers(session, [keep_id, other_id]):
                repo.index_customer(session, record.id, record.to_draft())
        logger.info("Undid the merge of customer #%s into #%s", other_id, keep_id)
        return result.changed

    def _load_pair(self, session: Session, keep_id: int, other_id: int
                   ) -> tuple[c.Customer, c.Customer, tuple[tuple[bool, int | None], ...]]:
        if keep_id == other_id:
            raise DomainError("A customer cannot be merged with itself.")
        records = {r.id: r for r in repo.load_customers(session, [keep_id, other_id])}
        for cid in (keep_id, other_id):
            if cid not in records:
                raise NotFoundError(f"Customer #{cid} does not exist (it may have been "
                                    "deleted).")
        extras = {cid: (bool(dnc), cadence) for cid, dnc, cadence in session.execute(
            select(m.Customer.id, m.Customer.do_not_contact, m.Customer.cadence_days)
            .where(m.Customer.id.in_([keep_id, other_id])))}
        return records[keep_id], records[other_id], (extras[keep_id], extras[other_id])


# --- merge rules (pure) ---------------------------------------------------------------------


def _check_choices(choices: Mapping[str, str]) -> None:
    for name, choice in choices.items():
        if name not in MERGE_FIELDS:
            raise ValidationError({name: f"“{name}” is not a field a merge can choose."})
        allowed = ("keep", "other", "union") if name in LIST_FIELDS else ("keep", "other")
        if choice not in allowed:
            raise ValidationError({name: f"Choose {' or '.join(allowed)} for {name}, "
                                         f"not “{choice}”."})


def _check_policy_covers_schema() -> None:
    missing = [t.name for t, _ in transfer.customer_references() if t.name not in MERGE_POLICY]
    if missing:
        # A programming error, not a user error: refuse rather than lose rows silently.
        raise RuntimeError(f"merge has no policy for tables {sorted(set(missing))}")


def _auto_name(record: c.Customer) -> bool:
    """Whether the stored display name is just the one derived from the other fields."""
    return record.display_name == replace(record.to_draft(), display_name="") \
        .effective_display_name()


def _union(first: tuple, second: tuple, key: Callable[[object], object]) -> tuple:
    seen = {key(x) for x in first}
    out = list(first)
    for item in second:
        k = key(item)
        if k not in seen:
            seen.add(k)
            out.append(item)
    return tuple(out)


_LIST_KEYS: Final[Mapping[str, Callable[[object], object]]] = {
    "emails": lambda e: e.address.lower(),  # type: ignore[attr-defined]
    "phones": lambda p: digits(p.number) or p.number,  # type: ignore[attr-defined]
    "tags": lambda t: str(t).casefold(),
    "special_dates": lambda s: s,
}


def _merged(keep: c.Customer, other: c.Customer, extras: tuple[tuple[bool, int | None], ...],
            choices: Mapping[str, str]) -> tuple[c.CustomerDraft, bool, int | None]:
    """The merged profile, do-not-contact and cadence, field by field."""
    a, b = keep.to_draft(), other.to_draft()
    # A display name that was only derived is derived again from the merged fields.
    if _auto_name(keep):
        a = replace(a, display_name="")
    if _auto_name(other):
        b = replace(b, display_name="")
    values: dict[str, object] = {}
    for name in ("first_name", "last_name", "display_name", "company", "notes", "source_uid",
                 "address", "status", "kind", "key_account", "preferred_channel",
                 "customer_since"):
        mine, theirs = getattr(a, name), getattr(b, name)
        choice = choices.get(name)
        if choice == "other":
            values[name] = theirs
        elif choice == "keep":
            values[name] = mine
        elif name == "customer_since":
            known = [d for d in (mine, theirs) if d is not None]
            values[name] = min(known) if known else None  # a customer since the earlier day
        elif name == "address":
            values[name] = theirs if mine.is_empty() else mine
        elif name in ("status", "kind", "key_account"):
            values[name] = mine
        else:
            values[name] = mine if mine else theirs
    for name in LIST_FIELDS:
        mine, theirs = getattr(a, name), getattr(b, name)
        choice = choices.get(name, "union")
        values[name] = mine if choice == "keep" else theirs if choice == "other" else \
            _union(mine, theirs, _LIST_KEYS[name])
    (dnc_a, cad_a), (dnc_b, cad_b) = extras
    dnc_choice = choices.get("do_not_contact")
    # Default: if either record says "do not contact", the merged one does (the safe side).
    dnc = dnc_a if dnc_choice == "keep" else dnc_b if dnc_choice == "other" else dnc_a or dnc_b
    cad_choice = choices.get("cadence_days")
    cadence = cad_a if cad_choice == "keep" else cad_b if cad_choice == "other" else \
        (cad_a if cad_a is not None else cad_b)
    return c.CustomerDraft(**values), dnc, cadence  # type: ignore[arg-type]


def _differing(keep: c.Customer, other: c.Customer,
               extras: tuple[tuple[bool, int | None], ...]) -> tuple[str, ...]:
    a, b = keep.to_draft(), other.to_draft()
    # Not the UIDs: every customer has its own (random), so they always differ, and the
    # merged customer keeps the kept one's unless the caller chooses the other's.
    out = [name for name in MERGE_FIELDS
           if name not in ("do_not_contact", "cadence_days", "source_uid")
           and getattr(a, name) != getattr(b, name)]
    if extras[0][0] != extras[1][0]:
        out.append("do_not_contact")
    if extras[0][1] != extras[1][1]:
        out.append("cadence_days")
    return tuple(n for n in MERGE_FIELDS if n in out)


def _without_derived(snapshot: snapshots.Snapshot) -> snapshots.Snapshot:
    # Recomputed after a restore (the rows' ids could have been reused since).
    return {t: rows for t, rows in snapshot.items() if MERGE_POLICY.get(t) != "derived"
            or t == "contact_rhythm"}


def _comparable(snapshot: snapshots.Snapshot) -> dict[str, list]:
    """A snapshot without the derived tables, which a sync may rewrite at any time."""
    return {t: sorted(rows, key=repr) for t, rows in snapshot.items()
            if MERGE_POLICY.get(t) != "derived" and rows}


# --- grouping ---------------------------------------------------------------------------------


def _connected(pairs: Mapping[tuple[int, int], list[tuple[str, str]]]
               ) -> list[tuple[list[int], list[DuplicatePair]]]:
    """Union-find over the pairs: each connected set of customers is one group."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members: dict[int, list[int]] = {}
    for x in parent:
        members.setdefault(find(x), []).append(x)
    group_pairs: dict[int, list[DuplicatePair]] = {}
    for (a, b), reasons in sorted(pairs.items()):
        group_pairs.setdefault(find(a), []).append(
            DuplicatePair(a, b, tuple(DuplicateReason(k, v) for k, v in reasons)))
    return [(sorted(ids), group_pairs[root]) for root, ids in members.items()]
