"""Initial schema: staff, customers with emails/phones/tags/special dates, settings, search.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

# unicode61 with remove_diacritics folds case and accents; prefix indexes keep one- to
# three-letter prefix queries (typing "j", "jo", "joh") fast on 100k customers. `flags` holds
# one token per list filter (status, kind, archived; each starts with U+E000, a private-use
# character no typed word can contain) so filtered search counts stay inside FTS5; the
# trigger keeps it in step with the customers row (store/customers.py writes the same tokens,
# SEARCH_FLAGS_SQL, and a test checks both agree).
FTS_CREATE = (
    "CREATE VIRTUAL TABLE customer_search USING fts5("
    "name, company, emails, phones, tags, notes, flags, "
    "tokenize = \"unicode61 remove_diacritics 2\", prefix = '1 2 3')"
)
FLAGS_TRIGGER_CREATE = (
    "CREATE TRIGGER customers_search_flags AFTER UPDATE OF status, kind, archived_at "
    "ON customers BEGIN "
    "UPDATE customer_search SET flags = "
    "char(57344) || 'status' || NEW.status || ' ' || char(57344) || 'kind' || NEW.kind "
    "|| CASE WHEN NEW.archived_at IS NULL THEN '' ELSE ' ' || char(57344) || 'archived' END "
    "WHERE rowid = NEW.id; END"
)


# PostgreSQL (team mode) has no FTS5: the same search table, same columns and the same
# folded texts, as a plain table keyed by the customer id (named `rowid` so the statements
# that read and write it by id are the same on both engines). `terms` (every word of the six
# searched columns, for a GIN index prefix match) and `doc_len` (the row's token count, flags
# included, as FTS5 counts it for bm25) are made from the texts by a trigger unless the
# writer brings them, so no writer has to know about them; `customer_search_stats` holds
# the row and token totals bm25 needs, kept by statement triggers. Words split where
# FTS5's tokenizer (categories L* N* Co M* So) splits: white space and punctuation
# (store/postgres_search.py ranks with FTS5's bm25 formula).
_PG_SEPARATORS = (
    "[\\s!-/:-@\\[-`{-~\\u00a1\\u00ab\\u00b7\\u00bb\\u00bf\\u2010-\\u2027"
    "\\u2030-\\u205e\\u3001-\\u3003\\u3008-\\u3011\\uff01-\\uff0f]+"
)
PG_SEARCH_CREATE = (
    "CREATE FUNCTION crm_words(value text) RETURNS text[] LANGUAGE sql IMMUTABLE "
    f"PARALLEL SAFE AS $$ SELECT array_remove(regexp_split_to_array(coalesce(value, ''), "
    f"'{_PG_SEPARATORS}'), '') $$",
    # A lexeme over 2,046 bytes cannot be in a tsvector: such a "word" (a pasted blob) is
    # left out of the match index only.
    "CREATE FUNCTION crm_search_terms(name text, company text, emails text, phones text, "
    "tags text, notes text) RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
    "SELECT array_to_tsvector(coalesce(array_agg(DISTINCT w) FILTER "
    "(WHERE octet_length(w) < 2000), '{}')) FROM unnest(crm_words(name) || crm_words(company) "
    "|| crm_words(emails) || crm_words(phones) || crm_words(tags) || crm_words(notes)) w $$",
    "CREATE FUNCTION crm_token_count(name text, company text, emails text, phones text, "
    "tags text, notes text, flags text) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE "
    "AS $$ SELECT cardinality(crm_words(name)) + cardinality(crm_words(company)) "
    "+ cardinality(crm_words(emails)) + cardinality(crm_words(phones)) "
    "+ cardinality(crm_words(tags)) + cardinality(crm_words(notes)) "
    "+ cardinality(crm_words(flags)) $$",
    # How many words of `value` start with `prefix`: a phrase's hits in one column.
    "CREATE FUNCTION crm_hits(value text, prefix text) RETURNS integer LANGUAGE sql IMMUTABLE "
    "PARALLEL SAFE AS $$ SELECT CASE WHEN strpos(value, prefix) = 0 THEN 0 ELSE "
    "(SELECT count(*)::integer FROM unnest(crm_words(value)) w WHERE starts_with(w, prefix)) "
    "END $$",
    "CREATE TABLE customer_search (rowid integer PRIMARY KEY, name text NOT NULL DEFAULT '', "
    "company text NOT NULL DEFAULT '', emails text NOT NULL DEFAULT '', "
    "phones text NOT NULL DEFAULT '', tags text NOT NULL DEFAULT '', "
    "notes text NOT NULL DEFAULT '', flags text NOT NULL DEFAULT '', "
    "terms tsvector, doc_len integer)",
    # A writer may bring terms and doc_len (a bulk load makes them in Python, where splitting
    # is ~10x cheaper than a regular expression per column here); else they are made here.
    "CREATE FUNCTION crm_search_terms_fill() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "NEW.terms := crm_search_terms(NEW.name, NEW.company, NEW.emails, NEW.phones, NEW.tags, "
    "NEW.notes); NEW.doc_len := crm_token_count(NEW.name, NEW.company, NEW.emails, "
    "NEW.phones, NEW.tags, NEW.notes, NEW.flags); RETURN NEW; END $$",
    "CREATE TRIGGER customer_search_terms_insert BEFORE INSERT ON customer_search FOR EACH ROW "
    "WHEN (NEW.terms IS NULL OR NEW.doc_len IS NULL) EXECUTE FUNCTION crm_search_terms_fill()",
    "CREATE TRIGGER customer_search_terms_update BEFORE UPDATE ON customer_search FOR EACH ROW "
    "WHEN (NEW.terms IS NOT DISTINCT FROM OLD.terms) EXECUTE FUNCTION crm_search_terms_fill()",
    "CREATE INDEX ix_customer_search_terms ON customer_search USING gin (terms)",
    "CREATE TABLE customer_search_stats (id integer PRIMARY KEY CHECK (id = 1), "
    "rows bigint NOT NULL, tokens bigint NOT NULL)",
    "INSERT INTO customer_search_stats VALUES (1, 0, 0)",
    "CREATE FUNCTION crm_search_stats_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "UPDATE customer_search_stats SET rows = rows + n.r, tokens = tokens + n.t FROM "
    "(SELECT count(*) AS r, coalesce(sum(doc_len), 0) AS t FROM new_rows) n; RETURN NULL; "
    "END $$",
    "CREATE FUNCTION crm_search_stats_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "UPDATE customer_search_stats SET rows = rows - o.r, tokens = tokens - o.t FROM "
    "(SELECT count(*) AS r, coalesce(sum(doc_len), 0) AS t FROM old_rows) o; RETURN NULL; "
    "END $$",
    "CREATE FUNCTION crm_search_stats_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "UPDATE customer_search_stats SET tokens = tokens + "
    "(SELECT coalesce(sum(doc_len), 0) FROM new_rows) "
    "- (SELECT coalesce(sum(doc_len), 0) FROM old_rows); RETURN NULL; END $$",
    "CREATE TRIGGER trg_customer_search_stats_insert AFTER INSERT ON customer_search "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION crm_search_stats_insert()",
    "CREATE TRIGGER trg_customer_search_stats_delete AFTER DELETE ON customer_search "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION crm_search_stats_delete()",
    "CREATE TRIGGER trg_customer_search_stats_update AFTER UPDATE ON customer_search "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION crm_search_stats_update()",
    # The flags follow status, kind and archived_at as the SQLite trigger keeps them.
    "CREATE FUNCTION crm_search_flags() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "UPDATE customer_search SET flags = chr(57344) || 'status' || NEW.status || ' ' "
    "|| chr(57344) || 'kind' || NEW.kind || CASE WHEN NEW.archived_at IS NULL THEN '' "
    "ELSE ' ' || chr(57344) || 'archived' END WHERE rowid = NEW.id; RETURN NULL; END $$",
    "CREATE TRIGGER customers_search_flags AFTER UPDATE OF status, kind, archived_at "
    "ON customers FOR EACH ROW EXECUTE FUNCTION crm_search_flags()",
    # SQLite's printf for the %d conversions the store's SQL uses ('%02d', '%04d'): the
    # special dates of an export are formatted in SQL on both engines.
    "CREATE FUNCTION printf(fmt text, VARIADIC args bigint[]) RETURNS text LANGUAGE plpgsql "
    "IMMUTABLE AS $$ DECLARE result text := ''; i integer := 1; m text[]; BEGIN LOOP "
    "m := regexp_match(fmt, '^(.*?)%(0?)(\\d*)d(.*)$'); EXIT WHEN m IS NULL; "
    "result := result || m[1] || CASE WHEN m[3] = '' THEN coalesce(args[i], 0)::text "
    "ELSE lpad(coalesce(args[i], 0)::text, m[3]::integer, CASE WHEN m[2] = '0' THEN '0' "
    "ELSE ' ' END) END; fmt := m[4]; i := i + 1; END LOOP; RETURN result || fmt; END $$",
    # Digits found anywhere inside a stored number (store/postgres_search.py).
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_customer_phones_digits_trgm ON customer_phones "
    "USING gin (digits gin_trgm_ops)",
)
PG_SEARCH_DROP = (
    "DROP TRIGGER customers_search_flags ON customers",
    "DROP TABLE customer_search_stats",
    "DROP TABLE customer_search",
    "DROP INDEX ix_customer_phones_digits_trgm",
    "DROP FUNCTION crm_search_flags()",
    "DROP FUNCTION crm_search_terms_fill()",
    "DROP FUNCTION crm_search_stats_insert()",
    "DROP FUNCTION crm_search_stats_delete()",
    "DROP FUNCTION crm_search_stats_update()",
    "DROP FUNCTION crm_hits(text, text)",
    "DROP FUNCTION crm_token_count(text, text, text, text, text, text, text)",
    "DROP FUNCTION crm_search_terms(text, text, text, text, text, text)",
    "DROP FUNCTION crm_words(text)",
    "DROP FUNCTION printf(text, bigint[])",
)


def upgrade() -> None:

    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("is_local", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("name_key", sa.String(length=60), nullable=False),
        sa.Column("cadence_days", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name_key"),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=False),
        sa.Column("last_name", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("sort_name", sa.String(length=200), nullable=False),
        sa.Column("sort_company", sa.String(length=200), nullable=False),
        sa.Column("primary_email", sa.String(length=320), nullable=False),
        sa.Column("primary_phone", sa.String(length=40), nullable=False),
        sa.Column("tags_text", sa.Text(), nullable=False),
        sa.Column("street", sa.Text(), nullable=False),
        sa.Column("city", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=200), nullable=False),
        sa.Column("postcode", sa.String(length=40), nullable=False),
        sa.Column("country", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key_account", sa.Boolean(), nullable=False),
        sa.Column("preferred_channel", sa.String(length=16), nullable=True),
        sa.Column("customer_since", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("source_uid", sa.String(length=300), nullable=False),
        sa.Column("do_not_contact", sa.Boolean(), nullable=False),
        sa.Column("cadence_days", sa.Integer(), nullable=True),
        sa.Column("archived_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff.id"],
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["staff.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_customers_created_at", "customers", ["created_at", "id"], unique=False)
    op.create_index("ix_customers_kind", "customers", ["kind", "id"], unique=False)
    op.create_index(
        "ix_customers_primary_email", "customers", ["primary_email", "id"], unique=False
    )
    op.create_index("ix_customers_sort_company", "customers", ["sort_company", "id"], unique=False)
    op.create_index("ix_customers_sort_name", "customers", ["sort_name", "id"], unique=False)
    op.create_index("ix_customers_source_uid", "customers", ["source_uid"], unique=False)
    op.create_index("ix_customers_status", "customers", ["status", "id"], unique=False)
    op.create_index("ix_customers_updated_at", "customers", ["updated_at", "id"], unique=False)
    op.create_table(
        "customer_emails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("address_key", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_customer_emails_customer", "customer_emails", ["customer_id"], unique=False)
    op.create_index("ix_customer_emails_key", "customer_emails", ["address_key"], unique=False)
    op.create_table(
        "customer_phones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("digits", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_customer_phones_customer", "customer_phones", ["customer_id"], unique=False)
    op.create_index("ix_customer_phones_digits", "customer_phones", ["digits"], unique=False)
    op.create_table(
        "customer_tags",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tag_id"], ["tags.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("customer_id", "tag_id"),
    )
    op.create_index(
        "ix_customer_tags_tag", "customer_tags", ["tag_id", "customer_id"], unique=False
    )
    op.create_table(
        "special_dates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("md_key", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_special_dates_customer", "special_dates", ["customer_id"], unique=False)
    op.create_index(
        "ix_special_dates_md_key", "special_dates", ["md_key", "customer_id"], unique=False
    )
    # Partial: only archived rows, so it stays tiny and the planner never prefers it to a
    # sort index for the usual "not archived" list; counts "all minus archived" instantly.
    op.create_index(
        "ix_customers_archived_at",
        "customers",
        ["archived_at"],
        unique=False,
        sqlite_where=sa.text("archived_at IS NOT NULL"),
        postgresql_where=sa.text("archived_at IS NOT NULL"),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(FTS_CREATE)
        op.execute(FLAGS_TRIGGER_CREATE)
    elif op.get_bind().dialect.name == "postgresql":
        for statement in PG_SEARCH_CREATE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER customers_search_flags")
        op.execute("DROP TABLE customer_search")
    elif op.get_bind().dialect.name == "postgresql":
        for statement in PG_SEARCH_DROP:
            op.execute(statement)
    for table in (
        "customer_tags",
        "special_dates",
        "customer_phones",
        "customer_emails",
        "customers",
        "tags",
        "staff",
        "settings",
    ):
        op.drop_table(table)
