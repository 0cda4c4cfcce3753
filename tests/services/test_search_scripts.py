"""Every name is found by its own text and by a part of it, in every script: the search index
and the typed query are folded by one function (core.text.fold), so the index never holds a
form no query is folded to. (Issue 18: Arabic with hamza, Hangul, kana with dakuten, zalgo
text and emoji-only names could not be found as typed.)"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crmcompanion.core.customer import CustomerDraft
from crmcompanion.core.text import indexable, words
from crmcompanion.services.container import Services, open_services
from crmcompanion.store.database import HEAD_REVISION
from tests.schema_undo import undo_back_to_0007

# Name -> parts of it that find it too (a word's beginning; any part for scripts written
# without spaces, and Hangul).
PEOPLE: dict[str, tuple[str, ...]] = {
    "José Núñez": ("nún", "Nunez", "JOS"),
    "Jürgen Müller-Strauß": ("straus", "Strauß", "müll"),
    "İsmail Yılmaz": ("İsma", "ismail", "yılm"),
    "Γιώργος Παπαδόπουλος": ("Γιώρ", "παπαδοπ", "ΓΙΩΡΓΟΣ"),
    "Дмитрий Ёлкин": ("Ёлк", "елкин", "дмит"),
    "أحمد الهاشمي": ("أحم", "الهاش", "احمد"),
    "אברהם כהן": ("אברה", "כה"),
    "राहुल शर्मा": ("राहु", "शर्मा"),
    "สมชาย ใจดี": ("สมช", "ชาย", "ใจดี"),
    "王小明": ("王小", "小明", "明"),
    "だいご さとう": ("だい", "さと", "いご"),
    "佐藤 健太": ("佐藤", "健", "太"),
    "カタカナ ジョン": ("ジョ", "カナ"),
    "김민준": ("김민", "민준", "준"),
    "박 서연": ("서연", "박"),
    "Z̷̢a̸͓l̶̙g̵̣o̴̱ Zalgo": ("Z̷̢a̸͓", "zalgo", "zal"),
    "🎉🦄": ("🎉",),
    "❤️": ("❤",),
}


def _add_people(services: Services) -> dict[str, int]:
    return {name: services.customers.create(CustomerDraft(display_name=name)).customer.id
            for name in PEOPLE}


def _assert_found(services: Services, ids: dict[str, int]) -> None:
    misses = []
    for name, parts in PEOPLE.items():
        if [c.id for c in services.customers.search(name)] != [ids[name]]:
            misses.append(name)
        misses += [f"{name} by {part!r}" for part in parts
                   if ids[name] not in [c.id for c in services.customers.search(part)]]
    assert misses == []


def test_every_script_is_found_by_its_text_and_by_a_part(services: Services) -> None:
    _assert_found(services, _add_people(services))


def test_imported_names_are_found_the_same_way(services: Services, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("First name,Last name\n" + "".join(f"{name},\n" for name in PEOPLE),
                    encoding="utf-8")
    assert services.import_export.run(services.import_export.preview(path).plan).created == len(
        PEOPLE)
    ids = {services.customers.get(i).display_name: i for i in range(1, len(PEOPLE) + 1)}
    _assert_found(services, ids)


def test_query_words_split_where_the_index_tokenizer_splits(services: Services) -> None:
    texts = [*PEOPLE, "a_b c+d@e.com $100 50% x·y", "राहुल-शर्मा", "👨\u200d👩\u200d👧 ok",
             "tab\there", "ǅemal ﬁsh", "½ ² Ⅻ"]
    with services.db.read() as session:
        sql = session.connection().exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'customer_search'").scalar_one()
    conn = sqlite3.connect(":memory:")
    conn.execute(sql)
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(customer_search, 'instance')")
    for rowid, value in enumerate(texts, 1):
        conn.execute("INSERT INTO customer_search (rowid, name) VALUES (?, ?)",
                     (rowid, indexable(value)))
    for rowid, value in enumerate(texts, 1):
        tokens = [t for (t,) in conn.execute(
            "SELECT term FROM v WHERE doc = ? ORDER BY offset", (rowid,))]
        assert words(value) == tokens, value


def test_cli_search_finds_hangul_by_its_text(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    services = open_services(f"sqlite:///{home / 'crmcompanion.sqlite3'}", home / "backups")
    try:
        ids = _add_people(services)
    finally:
        services.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMCOMPANION_")}
    env["CRMCOMPANION_HOME"] = str(home)
    for query in ("김민준", "민준", "أحمد", "だいご"):
        result = subprocess.run(
            [sys.executable, "-m", "crmcompanion", "customers", "search", query, "--json"],
            capture_output=True, text=True, env=env, check=False)
        assert result.returncode == 0, result.stderr
        found = json.loads(result.stdout)
        assert [row["id"] for row in found] == [
            ids[next(n for n in PEOPLE if query in n)]], query


def test_migration_0007_refolds_an_index_made_before_it(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite3"
    services = open_services(f"sqlite:///{path}")
    ids = _add_people(services)
    services.close()
    # The index as revision 0006 made it: unicode61 folding on its own, names as typed.
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT rowid, name, company, emails, phones, tags, notes, flags "
                        "FROM customer_search").fetchall()
    conn.execute("DROP TABLE customer_search")
    conn.execute("CREATE VIRTUAL TABLE customer_search USING fts5(name, company, emails, "
                 "phones, tags, notes, flags, tokenize = \"unicode61 remove_diacritics 2\", "
                 "prefix = '1 2 3')")
    names = {i: n for n, i in ids.items()}
    conn.executemany("INSERT INTO customer_search (rowid, name, company, emails, phones, tags, "
                     "notes, flags) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     [(r[0], names[r[0]], *r[2:]) for r in rows])
    undo_back_to_0007(conn)
    conn.execute("UPDATE alembic_version SET version_num = '0006_search_special_letters'")
    conn.commit()
    assert conn.execute("SELECT count(*) FROM customer_search WHERE customer_search MATCH "
                        "'\"احمد\"*'").fetchone() == (0,)
    conn.close()

    services = open_services(f"sqlite:///{path}", tmp_path / "backups")
    try:
        assert services.db.info.revision == HEAD_REVISION
        _assert_found(services, ids)
        # The flags trigger still follows the customers table.
        services.customers.set_archived(ids["김민준"], True)
        assert services.customers.search("김민준") == []
    finally:
        services.close()


@pytest.mark.parametrize("text", ["Ångström", "أحمد", "김민준", "だいご", "❤️", "ǅ"])
def test_fold_is_idempotent(text: str) -> None:
    # The index holds folded text and the tokenizer folds nothing more: folding twice must
    # change nothing, or the two sides would drift apart.
    assert indexable(indexable(text)) == indexable(text)
