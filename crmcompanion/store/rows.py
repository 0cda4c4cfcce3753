"""The plain row tuples of new customers, as a bulk load writes them (store.bulk), as an
import stages them (store.staging), and the search document and flags of one customer.

Why apart from store.bulk and store.customers: nothing here needs SQLAlchemy, so an
interpreter spawned to stage an import or to index its search rows (`infra.forking`, the
import wizard's way to a second core) imports it in ~0.05 s instead of ~0.35 s.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from crmcompanion.core.customer import Channel, Kind, SpecialDateKind, Status, new_uids
from crmcompanion.core.customer_values import CustomerValues
from crmcompanion.core.text import (
    digits,
    indexable,
    inner_suffixes,
    phone_search_text,
    sort_key,
)

CUSTOMER_COLUMNS = (
    "id",
    "first_name",
    "last_name",
    "display_name",
    "company",
    "sort_name",
    "sort_company",
    "primary_email",
    "primary_phone",
    "tags_text",
    "street",
    "city",
    "region",
    "postcode",
    "country",
    "status",
    "kind",
    "key_account",
    "preferred_channel",
    "customer_since",
    "notes",
    "source_uid",
    "do_not_contact",
    "cadence_days",
    "archived_at",
    "created_at",
    "updated_at",
    "created_by_id",
    "updated_by_id",
    "version",
)


Row = tuple[object, ...]


@dataclass
class BulkRows:
    """Plain row tuples for every table a bulk load fills, in the column orders below.

    `customers` follow `CUSTOMER_COLUMNS`; `search` is (rowid, name, company, emails, phones,
    tags, notes, flags); `interactions` follow `bulk._INTERACTION_COLUMNS`.
    """

    customers: list[Row] = field(default_factory=list)
    emails: list[Row] = field(default_factory=list)
    phones: list[Row] = field(default_factory=list)
    tags: list[Row] = field(default_factory=list)
    dates: list[Row] = field(default_factory=list)
    search: list[Row] = field(default_factory=list)
    interactions: list[Row] = field(default_factory=list)


# A new random customer UID in SQL, as core.customer.new_uids makes them ("urn:uuid:" and a
# version 4 UUID): for rows copied with INSERT ... SELECT (a staged import).
NEW_UID_SQL = (
    "('urn:uuid:' || lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' "
    "|| substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1)"
    " || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))))"
)


# Search flags: see store.customers (SEARCH_FLAGS_SQL and the search index).
FLAG_MARK = "\ue000"


def search_flags(status: str, kind: str, archived: bool) -> str:
    """The flags column for one customer; must equal SEARCH_FLAGS_SQL (a test checks)."""
    flags = f"{FLAG_MARK}status{status} {FLAG_MARK}kind{kind}"
    return flags + f" {FLAG_MARK}archived" if archived else flags


def search_name(display: str, first: str, last: str) -> str:
    """Each name word once: "Anna Müller" + "Anna" + "Müller" indexes two words, not four,
    while a display name like "Bob" for Robert Smith still finds "robert" and "smith". Words
    of scripts written without spaces are found by any part too (`inner_suffixes`)."""
    name = indexable(" ".join(dict.fromkeys(" ".join((display, first, last)).split())))
    inner = inner_suffixes(name)
    return f"{name} {inner}" if inner else name


# The customers columns a customer's values fill; the rest (do_not_contact ... version) are
# the same for every new customer but the load's stamp and staff.
DATA_COLUMNS = CUSTOMER_COLUMNS[1:22]


# Enum member -> its value: `.value` is a descriptor call, ~10x a dict lookup.
ENUM_VALUES: dict[object, str] = {
    member: member.value for enum in (Status, Kind, Channel, SpecialDateKind) for member in enum
}


# Tag lists seen in bulk loads (a file's rows share a few hundred; batches come 1,000 rows at a
# time) with their texts (`_tag_texts`); bounded, so odd files cannot grow it for ever.
_TAG_LISTS: dict[tuple[str, ...], tuple[str, str, list[tuple[str, str]]]] = {}
_MAX_TAG_LISTS = 4096


def _tag_texts(tags: tuple[str, ...]) -> tuple[str, str, list[tuple[str, str]]]:
    """A tag list's customers cell, its search text, and its (name, folded name) pairs, once
    per folded name."""
    named: dict[str, str] = {}
    for name in tags:
        named.setdefault(name.casefold(), name)
    return ", ".join(tags), indexable(" ".join(tags)), [(n, f) for f, n in named.items()]


def rows_from_values(values: Sequence[CustomerValues], first_id: int,
                     fill_uids: bool = True) -> BulkRows:
    """The rows of validated customers (names stripped, as validation leaves them), ids from
    `first_id`: `customers` rows are (id, *DATA_COLUMNS) and `tags` rows (id, tag name, folded
    name), once per folded name; `bulk.rows_from_drafts` completes both for the live tables,
    `store.staging` keeps them so. The customer-since date may also come as its ISO text
    (as the staging child receives it). With `fill_uids` a customer without a UID gets a new
    random one; staged rows keep theirs empty (the staged insert gives them theirs,
    `bulk._new_uids`, so the staging's duplicate keys hold only the file's own UIDs)."""
    rows = BulkRows()
    missing = sum(1 for v in values if not v[-1]) if fill_uids else 0  # v[-1]: source_uid
    fresh_uid = iter(new_uids(missing)).__next__ if missing else str
    customers, emails, phones = rows.customers, rows.emails, rows.phones
    tags, dates, search = rows.tags, rows.dates, rows.search
    flags: dict[tuple[str, str], str] = {}
    tag_lists = _TAG_LISTS
    name_of = search_name
    value_of = ENUM_VALUES
    for cid, v in enumerate(values, first_id):
        (first, last, display, company, v_emails, v_phones, address, v_tags, status, kind,
         key_account, channel, since, notes, specials, uid) = v
        # = CustomerDraft.effective_display_name(); validated names are stripped already
        shown = display or (f"{first} {last}" if first and last else first or last) or company
        status_value, kind_value = value_of[status], value_of[kind]
        if v_tags:
            # A file's rows share a few tag lists: each one's texts are made once.
            key = v_tags if type(v_tags) is tuple else tuple(v_tags)
            tag_texts = tag_lists.get(key)
            if tag_texts is None:
                tag_texts = _tag_texts(key)
                if len(tag_lists) < _MAX_TAG_LISTS:
                    tag_lists[key] = tag_texts
            tags_text, tags_indexed, named = tag_texts
            tags += [(cid, name, folded) for name, folded in named]
        else:
            tags_text = tags_indexed = ""
        customers.append((
            cid, first, last, shown, company, sort_key(shown), sort_key(company),
            v_emails[0][0] if v_emails else "", v_phones[0][0] if v_phones else "",
            tags_text, *address, status_value, kind_value, int(key_account),
            value_of[channel] if channel else None,
            (since if type(since) is str else since.isoformat()) if since else None,
            notes, uid or fresh_uid(),
        ))
        for pos, (address_text, label) in enumerate(v_emails):
            emails.append((cid, pos, label, address_text, address_text.lower()))
        if v_phones:
            numbers = [(number, digits(number)) for number, _ in v_phones]
            for pos, ((number, label), (_, number_digits)) in enumerate(
                    zip(v_phones, numbers, strict=True)):
                phones.append((cid, pos, label, number, number_digits))
        for special_kind, month, day, year, label in specials:
            # = core.dates.month_day_key: these dates were validated already
            dates.append((cid, value_of[special_kind], label, month, day, year,
                          month * 100 + day))
        flag = flags.get((status_value, kind_value))
        if flag is None:
            flag = flags[status_value, kind_value] = search_flags(
                status_value, kind_value, archived=False)
        # = repo.search_document of the draft (a test compares them).
        search.append((
            cid, name_of(shown, first, last), indexable(company),
            indexable(" ".join([e[0] for e in v_emails])) if v_emails else "",
            phone_search_text(numbers) if v_phones else "",
            tags_indexed, indexable(notes), flag,
        ))
    return rows


def open_scratch(path: str | Path) -> sqlite3.Connection:
    """A connection to a scratch SQLite file (rows staged on their way in, or a search index
    built aside): no journal and no syncing, since the file is thrown away if anything fails;
    transactions explicit (isolation_level None). Usable from any thread."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    return conn
