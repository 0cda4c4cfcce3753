"""Touchpoints: interactions, follow-ups, recorded states, opt-outs and derived rhythm data.

`contact_rhythm` and `touchpoint_sources` are derived tables the touchpoint service keeps in
step; the SQLite triggers below mark a customer's rhythm row dirty whenever something they
are derived from changes (the customer, its tags and special dates, tag cadences, cadence
settings), so the service never needs to scan every customer to find what is stale.

Bulk loads (demo data, imports) drop the per-row insert triggers inside their transaction
and re-create them before commit (store.touchpoints.triggers_set_aside): even a trigger whose
WHEN clause is false costs ~5 us a row, ~1.4 s of a 100,000-customer load. The loader marks
its new customers dirty with one INSERT ... SELECT instead. `keep_in_touch_due_counts`
holds how many customers are due for a check-in on each day, kept by triggers on
`contact_rhythm`, so the overdue count is a sum over a few hundred days instead of a walk
over every overdue customer (~97,000 index entries, 9 ms, when nobody has been contacted).

Revision ID: 0002_touchpoints
Revises: 0001_initial
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_touchpoints"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

_MARK = "UPDATE contact_rhythm SET dirty = 1 WHERE customer_id = {ref}.customer_id;"
_ADD_DUE = (
    "INSERT INTO keep_in_touch_due_counts (due_on, customers) "
    "SELECT NEW.next_due_on, 1 WHERE NEW.next_due_on IS NOT NULL "
    "ON CONFLICT (due_on) DO UPDATE SET customers = customers + 1;"
)
_REMOVE_DUE = (
    "UPDATE keep_in_touch_due_counts SET customers = customers - 1 WHERE due_on = {value};"
)

TRIGGERS: dict[str, str] = {
    # A new (or restored) customer gets a dirty rhythm row; the primary key replaces on
    # conflict, so a restored snapshot row simply overwrites it.
    "trg_customers_rhythm_insert": (
        "AFTER INSERT ON customers BEGIN "
        "INSERT INTO contact_rhythm (customer_id, dirty) VALUES (NEW.id, 1); END"
    ),
    "trg_customers_rhythm_update": (
        "AFTER UPDATE OF status, kind, key_account, customer_since, do_not_contact, "
        "cadence_days, archived_at, created_at ON customers BEGIN "
        "UPDATE contact_rhythm SET dirty = 1 WHERE customer_id = NEW.id; END"
    ),
    "trg_special_dates_rhythm_insert": (
        f"AFTER INSERT ON special_dates BEGIN {_MARK.format(ref='NEW')} END"
    ),
    "trg_special_dates_rhythm_delete": (
        f"AFTER DELETE ON special_dates BEGIN {_MARK.format(ref='OLD')} END"
    ),
    "trg_special_dates_rhythm_update": (
        f"AFTER UPDATE ON special_dates BEGIN {_MARK.format(ref='NEW')} "
        f"{_MARK.format(ref='OLD')} END"
    ),
    "trg_customer_tags_rhythm_insert": (
        f"AFTER INSERT ON customer_tags BEGIN {_MARK.format(ref='NEW')} END"
    ),
    "trg_customer_tags_rhythm_delete": (
        f"AFTER DELETE ON customer_tags BEGIN {_MARK.format(ref='OLD')} END"
    ),
    "trg_tags_rhythm_cadence": (
        "AFTER UPDATE OF cadence_days ON tags BEGIN "
        "UPDATE contact_rhythm SET dirty = 1 WHERE customer_id IN "
        "(SELECT customer_id FROM customer_tags WHERE tag_id = NEW.id); END"
    ),
    "trg_settings_rhythm_insert": (
        "AFTER INSERT ON settings WHEN NEW.key LIKE 'touchpoints.cadence.%' BEGIN "
        "UPDATE contact_rhythm SET dirty = 1; END"
    ),
    "trg_settings_rhythm_update": (
        "AFTER UPDATE ON settings WHEN NEW.key LIKE 'touchpoints.cadence.%' BEGIN "
        "UPDATE contact_rhythm SET dirty = 1; END"
    ),
    # The per-day due counts follow every change of next_due_on. The BEFORE INSERT one
    # covers the primary key's REPLACE, which deletes the old row without delete triggers.
    "trg_rhythm_due_counts_replace": (
        "BEFORE INSERT ON contact_rhythm BEGIN "
        + _REMOVE_DUE.format(
            value="(SELECT next_due_on FROM contact_rhythm WHERE customer_id = NEW.customer_id)"
        )
        + " END"
    ),
    "trg_rhythm_due_counts_insert": (
        f"AFTER INSERT ON contact_rhythm WHEN NEW.next_due_on IS NOT NULL "
        f"BEGIN {_ADD_DUE} END"
    ),
    "trg_rhythm_due_counts_update": (
        "AFTER UPDATE OF next_due_on ON contact_rhythm "
        f"WHEN OLD.next_due_on IS NOT NEW.next_due_on BEGIN "
        f"{_REMOVE_DUE.format(value='OLD.next_due_on')} {_ADD_DUE} END"
    ),
    "trg_rhythm_due_counts_delete": (
        f"AFTER DELETE ON contact_rhythm WHEN OLD.next_due_on IS NOT NULL "
        f"BEGIN {_REMOVE_DUE.format(value='OLD.next_due_on')} END"
    ),
}

# The same triggers on PostgreSQL (team mode), as plpgsql functions: name -> (table, when
# and event, row condition or "", body). `contact_rhythm`'s primary key cannot "replace on
# conflict" there, so a BEFORE INSERT trigger deletes the row an insert would replace (its
# delete trigger takes the old day off the due counts, as the SQLite replace trigger does).
_PG_MARK = "UPDATE contact_rhythm SET dirty = true WHERE customer_id = {ref}.customer_id;"
_PG_ADD_DUE = (
    "INSERT INTO keep_in_touch_due_counts (due_on, customers) VALUES (NEW.next_due_on, 1) "
    "ON CONFLICT (due_on) DO UPDATE SET customers = keep_in_touch_due_counts.customers + 1;"
)
_PG_REMOVE_DUE = (
    "UPDATE keep_in_touch_due_counts SET customers = customers - 1 WHERE due_on = {value};"
)
_PG_SETTING = "NEW.key LIKE 'touchpoints.cadence.%'"
PG_TRIGGERS: dict[str, tuple[str, str, str, str]] = {
    "trg_customers_rhythm_insert": (
        "customers", "AFTER INSERT", "",
        "INSERT INTO contact_rhythm (customer_id, dirty) VALUES (NEW.id, true);"),
    "trg_customers_rhythm_update": (
        "customers",
        "AFTER UPDATE OF status, kind, key_account, customer_since, do_not_contact, "
        "cadence_days, archived_at, created_at", "",
        "UPDATE contact_rhythm SET dirty = true WHERE customer_id = NEW.id;"),
    # A special date or a tag link inserted, deleted (or a date changed) marks its customer.
    **{f"trg_{table}_rhythm_{event.lower()}": (
        table, f"AFTER {event}", "",
        " ".join(_PG_MARK.format(ref=ref) for ref in refs))
       for table, event, refs in (
           ("special_dates", "INSERT", ("NEW",)), ("special_dates", "DELETE", ("OLD",)),
           ("special_dates", "UPDATE", ("NEW", "OLD")), ("customer_tags", "INSERT", ("NEW",)),
           ("customer_tags", "DELETE", ("OLD",)))},
    "trg_tags_rhythm_cadence": (
        "tags", "AFTER UPDATE OF cadence_days", "",
        "UPDATE contact_rhythm SET dirty = true WHERE customer_id IN "
        "(SELECT customer_id FROM customer_tags WHERE tag_id = NEW.id);"),
    "trg_settings_rhythm_insert": (
        "settings", "AFTER INSERT", _PG_SETTING, "UPDATE contact_rhythm SET dirty = true;"),
    "trg_settings_rhythm_update": (
        "settings", "AFTER UPDATE", _PG_SETTING, "UPDATE contact_rhythm SET dirty = true;"),
    "trg_rhythm_due_counts_replace": (
        "contact_rhythm", "BEFORE INSERT", "",
        "DELETE FROM contact_rhythm WHERE customer_id = NEW.customer_id;"),
    "trg_rhythm_due_counts_insert": (
        "contact_rhythm", "AFTER INSERT", "NEW.next_due_on IS NOT NULL", _PG_ADD_DUE),
    "trg_rhythm_due_counts_update": (
        "contact_rhythm", "AFTER UPDATE OF next_due_on",
        "OLD.next_due_on IS DISTINCT FROM NEW.next_due_on",
        # The old day comes off only if there was one; the new one is added only if set.
        "IF OLD.next_due_on IS NOT NULL THEN "
        + _PG_REMOVE_DUE.format(value="OLD.next_due_on")
        + " END IF; IF NEW.next_due_on IS NOT NULL THEN " + _PG_ADD_DUE + " END IF;"),
    "trg_rhythm_due_counts_delete": (
        "contact_rhythm", "AFTER DELETE", "OLD.next_due_on IS NOT NULL",
        _PG_REMOVE_DUE.format(value="OLD.next_due_on")),
}


def _create_pg_triggers() -> None:
    for name, (table, event, condition, body) in PG_TRIGGERS.items():
        # A BEFORE trigger returning NULL would cancel the row's insert.
        result = "NEW" if event.startswith("BEFORE") else "NULL"
        op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   f"{body} RETURN {result}; END $$")
        # Set aside for a transaction by a bulk load (store.touchpoints.triggers_set_aside):
        # a condition PostgreSQL checks without calling the function.
        aside = f"current_setting('crm.aside_{name}', true) IS DISTINCT FROM 'on'"
        when = f" WHEN ({aside}{' AND ' + condition if condition else ''})"
        op.execute(f"CREATE TRIGGER {name} {event} ON {table} FOR EACH ROW{when} "
                   f"EXECUTE FUNCTION {name}()")


def upgrade() -> None:
    op.create_table(
        "interactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("occasion", sa.String(length=32), nullable=True),
        sa.Column("occurrence_key", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_interactions_customer", "interactions", ["customer_id", "occurred_at", "id"]
    )
    op.create_index("ix_interactions_occurrence_key", "interactions", ["occurrence_key"])
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("occasion", sa.String(length=32), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_follow_ups_open_due", "follow_ups", ["open", "due_on", "id"])
    op.create_index("ix_follow_ups_customer", "follow_ups", ["customer_id"])
    op.create_table(
        "touchpoint_states",
        sa.Column("occurrence_key", sa.String(length=120), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("occasion", sa.String(length=32), nullable=False),
        sa.Column("occurrence_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("snoozed_until", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("interaction_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["interaction_id"], ["interactions.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["staff.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("occurrence_key"),
    )
    op.create_index(
        "ix_touchpoint_states_occurrence",
        "touchpoint_states",
        ["occurrence_on", "customer_id"],
    )
    op.create_index("ix_touchpoint_states_state", "touchpoint_states", ["state", "occasion"])
    op.create_index("ix_touchpoint_states_customer", "touchpoint_states", ["customer_id"])
    op.create_table(
        "touchpoint_opt_outs",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("occasion", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("customer_id", "occasion"),
    )
    op.create_table(
        "contact_rhythm",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("dirty", sa.Boolean(), nullable=False),
        sa.Column("last_interaction_on", sa.Date(), nullable=True),
        sa.Column("reset_on", sa.Date(), nullable=True),
        sa.Column("contact_base_on", sa.Date(), nullable=True),
        sa.Column("cadence_days", sa.Integer(), nullable=True),
        sa.Column("next_due_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("customer_id", sqlite_on_conflict="REPLACE"),
    )
    op.create_index(
        "ix_contact_rhythm_next_due", "contact_rhythm", ["next_due_on", "customer_id"]
    )
    op.create_index(
        "ix_contact_rhythm_dirty",
        "contact_rhythm",
        ["customer_id"],
        sqlite_where=sa.text("dirty IS 1"),
    )
    op.create_table(
        "touchpoint_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("occasion", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("md_key", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_touchpoint_sources_md_key", "touchpoint_sources", ["md_key", "year", "occasion"]
    )
    op.create_index("ix_touchpoint_sources_customer", "touchpoint_sources", ["customer_id"])
    op.create_table(
        "keep_in_touch_due_counts",
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("due_on"),
    )
    # Existing customers start dirty: the service derives their rows on first read.
    dirty = "1" if op.get_bind().dialect.name == "sqlite" else "true"
    op.execute(f"INSERT INTO contact_rhythm (customer_id, dirty) SELECT id, {dirty} FROM customers")
    if op.get_bind().dialect.name == "sqlite":
        for name, body in TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    elif op.get_bind().dialect.name == "postgresql":
        _create_pg_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif op.get_bind().dialect.name == "postgresql":
        for name, (table, *_) in PG_TRIGGERS.items():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    for table in (
        "keep_in_touch_due_counts",
        "touchpoint_sources",
        "contact_rhythm",
        "touchpoint_opt_outs",
        "touchpoint_states",
        "follow_ups",
        "interactions",
    ):
        op.drop_table(table)
