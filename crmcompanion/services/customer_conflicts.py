"""Two people edited one customer at once: a three-way merge, field by field.

An edit carries the version it read and the form as it was opened (the base). When the
stored customer has moved on by the time it is saved, each field is compared three ways:

* only I changed it (theirs = base): mine is applied;
* only they changed it (mine = base): theirs is kept;
* we both made it the same: nothing to decide;
* we both changed it differently: a real conflict, which the user decides (`EditConflict`).

Nothing is ever written over silently: without real conflicts the merge is saved (and the
fields kept from the other save are reported), with one nothing is saved and the error
carries base, theirs and mine for each conflicting field plus the merge of the rest, so the
user's form is never lost. Values are compared after the same cleaning a save applies, so
"+49 30 1234" typed and "+49301234" stored are one phone number.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from crmcompanion.core import customer as c
from crmcompanion.core.errors import ConflictError, NotFoundError, ValidationError
from crmcompanion.core.validation import validate_customer

logger = logging.getLogger(__name__)

Side = Literal["theirs", "mine"]

# Every field of a draft a person edits, in the editor's order, with its label on screen.
# The postal address is merged part by part: one person fixing the postcode and another the
# street is no conflict.
FIELDS: tuple[tuple[str, str], ...] = (
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("display_name", "Display name"),
    ("company", "Company"),
    ("emails", "Email"),
    ("phones", "Phone"),
    ("preferred_channel", "Prefers"),
    ("address.street", "Street"),
    ("address.postcode", "Postcode"),
    ("address.city", "City"),
    ("address.region", "State / region"),
    ("address.country", "Country"),
    ("status", "Status"),
    ("kind", "Kind"),
    ("key_account", "Key account"),
    ("tags", "Tags"),
    ("customer_since", "Customer since"),
    ("special_dates", "Special dates"),
    ("notes", "Notes"),
    ("source_uid", "UID"),
)
LABELS = dict(FIELDS)


def field_value(draft: c.CustomerDraft, key: str) -> object:
    group, _, part = key.partition(".")
    value = getattr(draft, group)
    return getattr(value, part) if part else value


def with_value(draft: c.CustomerDraft, key: str, value: object) -> c.CustomerDraft:
    group, _, part = key.partition(".")
    if part:
        return replace(draft, **{group: replace(getattr(draft, group), **{part: value})})
    return replace(draft, **{group: value})


def canonical(draft: c.CustomerDraft, region: str) -> c.CustomerDraft:
    """The draft as a save stores it, in one form for comparing: cleaned (phones in E.164,
    empty rows dropped), tags in name order, and the display name only when it is an
    explicit one (the editor shows an automatic name, "first last" or the company, as an
    empty field)."""
    clean = validate_customer(draft, region)
    person = " ".join(p for p in (clean.first_name, clean.last_name) if p)
    explicit = "" if clean.display_name in (person, clean.company) else clean.display_name
    return replace(clean, display_name=explicit,
                   tags=tuple(sorted(clean.tags, key=str.casefold)))


@dataclass(frozen=True)
class FieldConflict:
    """One field both saves changed, differently: base (as the editor opened it), theirs
    (saved meanwhile) and mine (the form). Values are the draft's own types."""

    key: str
    label: str
    base: object
    theirs: object
    mine: object


@dataclass(frozen=True)
class Merge:
    merged: c.CustomerDraft  # conflicting fields hold mine
    conflicts: tuple[FieldConflict, ...]
    kept_theirs: tuple[str, ...]  # labels of the fields only they changed


def three_way(base: c.CustomerDraft | None, theirs: c.CustomerDraft,
              mine: c.CustomerDraft) -> Merge:
    """Merge canonical drafts field by field (see the module docstring). Without a base
    every field where theirs and mine differ is a conflict."""
    merged = mine
    conflicts: list[FieldConflict] = []
    kept: list[str] = []
    for key, label in FIELDS:
        t, m = field_value(theirs, key), field_value(mine, key)
        if t == m:
            continue
        b = field_value(base, key) if base is not None else None
        if base is not None and m == b:
            merged = with_value(merged, key, t)
            kept.append(label)
        elif base is not None and t == b:
            continue  # only I changed it: mine stays
        else:
            conflicts.append(FieldConflict(key, label, b, t, m))
    return Merge(merged, tuple(conflicts), tuple(kept))


class EditConflict(ConflictError):
    """The customer was saved by someone else since the editor opened it, and both changed
    some fields differently. Nothing was saved; `resolved` builds the draft to save next
    (with `theirs.version` and `theirs.to_draft()` as its base)."""

    def __init__(self, theirs: c.Customer, merge: Merge) -> None:
        self.theirs = theirs
        self.customer_id = theirs.id
        self.conflicts = merge.conflicts
        self.merged = merge.merged
        self.kept_theirs = merge.kept_theirs
        who = theirs.updated_by_name or "someone else"
        fields = ", ".join(f.label.lower() for f in merge.conflicts)
        super().__init__(
            f"{theirs.display_name} was changed by {who} while you were editing it; you both "
            f"changed {fields}. Choose which version to keep; nothing was saved yet."
        )

    def resolved(self, choices: Mapping[str, Side]) -> c.CustomerDraft:
        """The merge with each conflicting field taken from the side chosen for its key
        (mine where no choice is given)."""
        draft = self.merged
        for conflict in self.conflicts:
            side = choices.get(conflict.key, "mine")
            draft = with_value(draft, conflict.key,
                               conflict.theirs if side == "theirs" else conflict.mine)
        return draft


class DeletedMeanwhile(NotFoundError, ConflictError):
    """The customer was deleted by someone else while it was being edited."""

    def __init__(self, customer_id: int, name: str) -> None:
        self.customer_id = customer_id
        super().__init__(
            f"{name} was deleted by someone else while you were editing; your changes were not "
            "saved and are still in the form (save them as a new customer to keep them)."
        )


def merge_edit(theirs: c.Customer, base: c.CustomerDraft | None, mine: c.CustomerDraft,
               region: str) -> Merge:
    """The three-way merge of an edit over `theirs` (the stored customer). A base that no
    longer passes validation (rules changed since it was read) counts as unknown."""
    stored = theirs.to_draft()

    def keeping_uid(draft: c.CustomerDraft) -> c.CustomerDraft:
        # A draft without a UID (a form, the CLI) keeps the stored one: not a change.
        return draft if draft.source_uid else replace(draft, source_uid=stored.source_uid)

    try:
        known = canonical(keeping_uid(base), region) if base is not None else None
    except ValidationError:
        logger.info("The edit's base no longer validates: merging without it")
        known = None
    return three_way(known, canonical(stored, region), canonical(keeping_uid(mine), region))
