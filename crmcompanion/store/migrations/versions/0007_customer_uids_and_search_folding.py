"""Every customer gets its own random UID; the search index holds folded text.

UIDs: an export used to write a UID derived from the row id for customers without one, so
customer #1 of every address book had the same UID and an import from another book "matched"
strangers. Each customer now stores a random UID (`customers.source_uid`, which until now held
only the UID an import brought): this gives every customer without one a random UUID (one
UPDATE, in SQL), gives a new one to any customer sharing a UID with an earlier customer, and
makes the index on it unique.

Search: the index held the text as typed while a query was folded by core.text.fold, so
Arabic with hamza, Hangul, kana with dakuten, Greek with accents, zalgo text and emoji-only
names could not be found as typed. The index now holds `fold` of every text, tokenized by
unicode61 with marks and symbols as word characters (so Hindi and Thai words stay whole and
emoji are words) and no diacritics removal of its own. The table is recreated with that
tokenizer and every row re-indexed from the text it held (which folds to the same as the
original: revision 0006 only spelled out letters that `fold` spells out the same way).

Revision ID: 0007_customer_uids_and_search_folding
Revises: 0006_search_special_letters
Create Date: 2026-12-06
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from alembic import op

revision = "0007_customer_uids_and_search_folding"
down_revision = "0006_search_special_letters"
branch_labels = None
depends_on = None

# A random "urn:uuid:" version 4 UUID per row (frozen copy of store.rows.NEW_UID_SQL).
_NEW_UID_SQL = (
    "('urn:uuid:' || lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' "
    "|| substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1)"
    " || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))))"
)
_COLUMNS = "name, company, emails, phones, tags, notes, flags"
_TOKENIZE = "unicode61 remove_diacritics 0 categories 'L* N* Co M* So'"
_OLD_TOKENIZE = "unicode61 remove_diacritics 2"
_BATCH = 5000

# A frozen copy of core.text.fold as of this revision (a migration must not change meaning
# when the app's folding changes later).
_SPECIAL_FOLDS = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d",
                                "ı": "i", "þ": "th", "ð": "d"})
_DROPPED = dict.fromkeys([*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0),
                          *range(0x1F3FB, 0x1F400)])


@lru_cache(maxsize=8192)
def _fold(value: str) -> str:
    if value.isascii():
        return value.lower()
    decomposed = unicodedata.normalize("NFKD", value.casefold().translate(_SPECIAL_FOLDS))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped.translate(_DROPPED))


# Frozen copy of core.text.inner_suffixes: names in scripts written without spaces are
# indexed with the suffixes of their words too, so they are found by any part.
_UNSPACED = re.compile("[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u1100-\u11ff"
                       "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def _inner_suffixes(folded: str) -> str:
    if folded.isascii() or not _UNSPACED.search(folded):
        return ""
    words = folded.split()
    suffixes = dict.fromkeys(word[i:] for word in words
                             if 1 < len(word) <= 24 and _UNSPACED.search(word)
                             for i in range(1, len(word)))
    return " ".join(s for s in suffixes if s not in words)


def _create(tokenize: str) -> str:
    return (f"CREATE VIRTUAL TABLE customer_search USING fts5({_COLUMNS}, "
            f"tokenize = \"{tokenize}\", prefix = '1 2 3')")


def _copy_index(fold: bool) -> None:
    """Recreate customer_search with the other tokenizer and copy its rows over, in batches
    of rowids (the texts folded on the way when `fold`). Plain DBAPI tuples, and FTS5 set to
    merge less often while it fills, as a bulk load does (store.bulk): ~9 instead of ~11 s
    of 100,000 customers on a busy machine, most of it FTS5 indexing."""
    connection = op.get_bind()
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    # The flags trigger names the table: a rename would point it at the old one, so it is
    # set aside and put back as it was.
    triggers = cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
        "AND sql LIKE '%customer_search%'").fetchall()
    for name, _ in triggers:
        cursor.execute(f'DROP TRIGGER "{name}"')
    cursor.execute("ALTER TABLE customer_search RENAME TO customer_search_old")
    cursor.execute(_create(_TOKENIZE if fold else _OLD_TOKENIZE))
    _configure(cursor, (("automerge", 16), ("crisismerge", 64), ("hashsize", 4 * 1024 * 1024)))
    insert = (f"INSERT INTO customer_search (rowid, {_COLUMNS}) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    last = -1
    while True:
        rows = cursor.execute(
            f"SELECT rowid, {_COLUMNS} FROM customer_search_old WHERE rowid > ? "
            "ORDER BY rowid LIMIT ?", (last, _BATCH)).fetchall()
        if not rows:
            break
        if fold:
            rows = [(rowid, _name(name or ""), _fold(company or ""), _fold(emails or ""),
                     phones, _fold(tags or ""), _fold(notes or ""), flags)
                    for rowid, name, company, emails, phones, tags, notes, flags in rows]
        cursor.executemany(insert, rows)
        last = rows[-1][0]
    _configure(cursor, (("automerge", 4), ("crisismerge", 16), ("hashsize", 1024 * 1024)))
    cursor.execute("DROP TABLE customer_search_old")
    for _, sql in triggers:
        cursor.execute(sql)
    cursor.close()


def _name(value: str) -> str:
    folded = _fold(value)
    inner = _inner_suffixes(folded)
    return f"{folded} {inner}" if inner else folded


def _configure(cursor: object, settings: tuple[tuple[str, int], ...]) -> None:
    for key, value in settings:
        cursor.execute(  # type: ignore[attr-defined]
            "INSERT INTO customer_search(customer_search, rank) VALUES (?, ?)", (key, value))


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    new_uid = _NEW_UID_SQL if sqlite else "'urn:uuid:' || gen_random_uuid()::text"
    # The index goes first: updating it row by row cost more than building it after.
    op.drop_index("ix_customers_source_uid", table_name="customers")
    op.execute(f"UPDATE customers SET source_uid = {new_uid} WHERE source_uid = ''")
    # Customers sharing a UID (imports used to allow it) keep it on the first one only.
    op.execute(f"UPDATE customers SET source_uid = {new_uid} WHERE id NOT IN "
               "(SELECT min(id) FROM customers GROUP BY source_uid)")
    op.create_index("ix_customers_source_uid", "customers", ["source_uid"], unique=True)
    if sqlite:
        _copy_index(fold=True)


def downgrade() -> None:
    # The random UIDs stay (an older build exports a stored UID as it is).
    op.drop_index("ix_customers_source_uid", table_name="customers")
    op.create_index("ix_customers_source_uid", "customers", ["source_uid"], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        _copy_index(fold=False)
