"""The touchpoint tables' set-based SQL on PostgreSQL (team mode).

Why: store.touchpoints recomputes the derived rows with SQLite SQL (`date(x, '+N days')`,
`typeof`, `min(a, b)`, booleans as 0/1, `IS 1` to use a partial index) and sets SQLite
triggers aside during bulk work by dropping them. PostgreSQL gets the same rules in its own
SQL here; its triggers (migration 0002, plpgsql) are set aside for a transaction by a
setting their WHEN clauses check (`set_aside`), and a contact_rhythm insert replaces the row
as on SQLite.
store.touchpoints dispatches to these functions when its session is on PostgreSQL.
"""

from __future__ import annotations

import calendar
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from crmcompanion.core.touchpoints import MAX_CADENCE_DAYS, TouchpointSettings

# Above this many recomputed customers the per-day due counts are recounted whole rather than
# kept by the per-row triggers (store.touchpoints uses the same threshold on SQLite).
REBUILD_COUNTS_ABOVE = 2000
_ELIGIBLE = "c.do_not_contact = false AND c.archived_at IS NULL AND c.status != 'lost'"
_NOT_OPTED_OUT = (
    "NOT EXISTS (SELECT 1 FROM touchpoint_opt_outs o "
    "WHERE o.customer_id = c.id AND o.occasion = {occasion})"
)
_DIRTY = "FROM contact_rhythm r JOIN customers c ON c.id = r.customer_id WHERE r.dirty"


def _insert_sources(customers: str, condition: str) -> str:
    """The INSERT of the yearly touchpoint sources (special dates, customer-since
    anniversaries) of the eligible customers that `customers` (a FROM naming them c) and
    `condition` select: for sync_dirty the dirty ones, for an import the new ones."""
    return (
        "INSERT INTO touchpoint_sources (customer_id, occasion, source_id, md_key, year, label) "
        f"SELECT c.id, sd.kind, sd.id, sd.md_key, sd.year, sd.label {customers} "
        f"JOIN special_dates sd ON sd.customer_id = c.id WHERE {condition} "
        f"AND {_ELIGIBLE} AND {_NOT_OPTED_OUT.format(occasion='sd.kind')} "
        "UNION ALL "
        "SELECT c.id, 'customer_anniversary', NULL, "
        "extract(month FROM c.customer_since)::integer * 100 "
        "+ extract(day FROM c.customer_since)::integer, "
        "extract(year FROM c.customer_since)::integer, '' "
        f"{customers} WHERE {condition} AND c.customer_since IS NOT NULL AND {_ELIGIBLE} "
        f"AND {_NOT_OPTED_OUT.format(occasion=chr(39) + 'customer_anniversary' + chr(39))}"
    )


_INSERT_SOURCES = _insert_sources(
    "FROM contact_rhythm r JOIN customers c ON c.id = r.customer_id", "r.dirty")
_DEFAULT_CADENCE = (
    "CASE WHEN c.key_account THEN CAST(:key_account AS integer) "
    "WHEN c.status = 'lead' AND c.kind = 'internal' "
    "THEN least(CAST(:lead AS integer), CAST(:internal AS integer)) "
    "WHEN c.status = 'lead' THEN CAST(:lead AS integer) "
    "WHEN c.kind = 'internal' THEN CAST(:internal AS integer) "
    "ELSE CAST(:active AS integer) END"
)
_TAG_CADENCE = (
    "(SELECT min(t.cadence_days) FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id "
    "WHERE ct.customer_id = c.id AND t.cadence_days IS NOT NULL)"
)
_OVERRIDE = f"CASE WHEN c.cadence_days BETWEEN 1 AND {MAX_CADENCE_DAYS} THEN c.cadence_days END"
# The local creation day: stored naive UTC seen in the machine's zone, as SQLite's
# 'localtime' does (store.touchpoints.local_date).
_RHYTHM_ROWS = (
    "SELECT c.id AS id, coalesce(r.last_interaction_on, c.customer_since, "
    "(timezone(CAST(:zone AS text), c.created_at AT TIME ZONE 'UTC'))::date) AS base, "
    f"CASE WHEN {_ELIGIBLE} AND "
    f"{_NOT_OPTED_OUT.format(occasion=chr(39) + 'keep_in_touch' + chr(39))} "
    "THEN coalesce({override}, {tags}, {default}) END AS cadence "
    f"{_DIRTY}"
)
_UPDATE_RHYTHM = (
    "UPDATE contact_rhythm SET dirty = false, contact_base_on = x.base, "
    "cadence_days = x.cadence, next_due_on = CASE WHEN x.cadence IS NULL THEN NULL ELSE "
    "(CASE WHEN contact_rhythm.reset_on > x.base THEN contact_rhythm.reset_on "
    "ELSE x.base END) + x.cadence END "
    "FROM ({rows}) AS x WHERE contact_rhythm.customer_id = x.id"
)


def local_zone() -> str:
    """The machine's time zone as PostgreSQL names it: TZ, else /etc/localtime's zone name,
    else the current UTC offset (POSIX sign: east of UTC is negative)."""
    zone = os.environ.get("TZ", "").lstrip(":")
    if (zone and "/" in zone) or zone == "UTC":
        return zone
    try:
        target = str(Path("/etc/localtime").resolve())
    except OSError:
        target = ""
    found = re.search(r"zoneinfo/(.+)$", target)
    if found:
        return found.group(1)
    offset = -(time.altzone if time.daylight and time.localtime().tm_isdst else time.timezone)
    return f"{'-' if offset >= 0 else '+'}{abs(offset) // 3600:02d}:{abs(offset) % 3600 // 60:02d}"


def set_aside(session: Session, names: Sequence[str], aside: bool) -> None:
    """Switch the named triggers off (or on again) for this transaction: each checks its
    `crm.aside_<name>` setting in its WHEN clause (migration 0002), as cheap as SQLite's
    dropped trigger and visible to no other connection."""
    for name in names:
        session.execute(text("SELECT set_config(:key, :value, true)"),
                        {"key": f"crm.aside_{name}", "value": "on" if aside else "off"})


def adapt(sql: str) -> str:
    """SQLite's boolean comparisons (`x IS 1`, `x IS 0`) as PostgreSQL writes them.

    As `x = true` / `x = false`, not `x IS TRUE`: PostgreSQL matches a partial index
    (`WHERE dirty`, migration 0012) or an index on the column (`open`) only for the former,
    so "is anything stale?" read the whole rhythm table (~13-25 ms at 100,000 customers).
    The same rows either way: store.touchpoints writes these only in WHERE clauses, on
    NOT NULL boolean columns (dirty, open, do_not_contact)."""
    return sql.replace(" IS 1", " = true").replace(" IS 0", " = false")


def mark_customers_dirty(session: Session, first_id: int, last_id: int,
                         with_interactions: bool, last_interactions: str | None) -> None:
    """store.touchpoints.mark_customers_dirty: the just-loaded customers' dirty rhythm rows,
    with their last interaction day. Set-based joins only (a correlated sub-query per row,
    planned on a table the load has just filled, took minutes at 100,000 customers), the
    due-count triggers aside (new rows have no due day), and fresh statistics first."""
    del last_interactions  # a SQLite staging table; here the interactions are in place
    session.execute(text("ANALYZE customers, contact_rhythm, interactions"))
    bounds = {"first": first_id, "last": last_id}
    from crmcompanion.store.touchpoints import DUE_COUNT_TRIGGERS

    set_aside(session, DUE_COUNT_TRIGGERS, True)
    session.execute(
        text("INSERT INTO contact_rhythm (customer_id, dirty) SELECT id, true FROM customers "
             "WHERE id BETWEEN :first AND :last "
             "ON CONFLICT (customer_id) DO UPDATE SET dirty = true"), bounds)
    set_aside(session, DUE_COUNT_TRIGGERS, False)
    if with_interactions:
        session.execute(
            text("UPDATE contact_rhythm r SET last_interaction_on = x.last FROM "
                 "(SELECT customer_id, max(occurred_on) AS last FROM interactions "
                 "WHERE customer_id BETWEEN :first AND :last GROUP BY customer_id) x "
                 "WHERE r.customer_id = x.customer_id"), bounds)


def sync_dirty(session: Session, settings: TouchpointSettings) -> int:
    """store.touchpoints.sync_dirty on PostgreSQL: the same three statements."""
    count = session.execute(
        text("SELECT count(*) FROM contact_rhythm WHERE dirty")).scalar_one()
    if not count:
        return 0
    any_tag_cadence = session.execute(
        text("SELECT 1 FROM tags WHERE cadence_days IS NOT NULL LIMIT 1")).first() is not None
    session.execute(text("DELETE FROM touchpoint_sources WHERE customer_id IN "
                         "(SELECT customer_id FROM contact_rhythm WHERE dirty)"))
    session.execute(text(_INSERT_SOURCES))
    rows = _RHYTHM_ROWS.format(
        override=_OVERRIDE, tags=_TAG_CADENCE if any_tag_cadence else "NULL",
        default=_DEFAULT_CADENCE)
    cadence = settings.cadence
    update = text(_UPDATE_RHYTHM.format(rows=rows))
    params = {"key_account": cadence.key_account, "active": cadence.active,
              "lead": cadence.lead, "internal": cadence.internal, "zone": local_zone()}
    from crmcompanion.store.touchpoints import DUE_COUNT_TRIGGERS, rebuild_due_counts

    if count > REBUILD_COUNTS_ABOVE:
        # As on SQLite: the per-row due-count triggers aside and the counts recounted after.
        # Here it matters more: each trigger call updates one of a few hundred per-day rows,
        # so 100,000 recomputed customers stacked ~100,000 versions of them in the one
        # transaction, every update walking its row's chain (the import's UPDATE: ~50 s).
        set_aside(session, DUE_COUNT_TRIGGERS, True)
        session.execute(update, params)
        set_aside(session, DUE_COUNT_TRIGGERS, False)
        rebuild_due_counts(session)
        # As many rows rewritten as a bulk load brings: the Today reads' plans need their
        # statistics now, not when autovacuum next comes by.
        session.execute(text("ANALYZE touchpoint_sources, contact_rhythm"))
    else:
        session.execute(update, params)
    return count


# The separator of the keys state_versions binds as one text: an occurrence key is made of
# ids, an occasion name and an ISO date (core.touchpoints.occurrence_key), never a newline.
_KEY_SEPARATOR = "\n"


def state_versions(session: Session, keys: Sequence[str]) -> dict[str, int]:
    """store.touchpoints.state_versions on PostgreSQL: every key in ONE bound value, split
    by the server (`= ANY(string_to_array(...))`). As `IN (...)` of one bound value per key
    (~800 for a Today view at 100,000 customers), SQLAlchemy rendered and psycopg parsed
    ~800 placeholders per call (~20 ms of client CPU) and the server filtered every state
    row against the list; as a bound text[] psycopg still dumped the array element by
    element in Python (~2 ms of client CPU per view; one joined string: ~0.2 ms)."""
    if any(_KEY_SEPARATOR in key for key in keys):  # not an occurrence key: never split it
        raise ValueError("An occurrence key holds no line break.")
    rows = session.execute(
        text("SELECT occurrence_key, version FROM touchpoint_states WHERE occurrence_key = "
             "ANY(string_to_array(CAST(:keys AS text), chr(10)))"),
        {"keys": _KEY_SEPARATOR.join(keys)})
    return {key: version for key, version in rows}


def yearly_date(table: str, year: int, feb28: bool) -> str:
    """SQL: the DATE on which a `table` (touchpoint_sources) row occurs in `year`, as
    store.touchpoints._yearly_day_sql's text names it: 29 February on the 28th (`feb28`) or
    on 1 March when `year` has none. make_date, not the text cast: each row of a Today
    read's hidden check evaluates it."""
    made = f"make_date({int(year)}, {table}.md_key / 100, {table}.md_key % 100)"
    if calendar.isleap(year):
        return made
    moved = f"DATE '{int(year):04d}-{'02-28' if feb28 else '03-01'}'"
    return f"CASE WHEN {table}.md_key = 229 THEN {moved} ELSE {made} END"


_NEW_SOURCES = _insert_sources("FROM customers c", "c.id BETWEEN :first AND :last")
# The shortest tag cadence of each new customer, joined (not a sub-query per customer).
_TAG_CADENCES = (
    "LEFT JOIN (SELECT ct.customer_id, min(t.cadence_days) AS days FROM customer_tags ct "
    "JOIN tags t ON t.id = ct.tag_id WHERE t.cadence_days IS NOT NULL "
    "AND ct.customer_id BETWEEN :first AND :last GROUP BY ct.customer_id) tc "
    "ON tc.customer_id = c.id "
)
# The rows touchpoints.sync_dirty's UPDATE gives new customers (no reset day yet), inserted.
_NEW_RHYTHM = (
    "INSERT INTO contact_rhythm (customer_id, dirty, last_interaction_on, reset_on, "
    "contact_base_on, cadence_days, next_due_on) "
    "SELECT x.id, false, x.last, NULL, x.base, x.cadence, x.base + x.cadence FROM ("
    "SELECT c.id AS id, {last} AS last, coalesce({last}, c.customer_since, "
    "(timezone(CAST(:zone AS text), c.created_at AT TIME ZONE 'UTC'))::date) AS base, "
    f"CASE WHEN {_ELIGIBLE} AND "
    f"{_NOT_OPTED_OUT.format(occasion=chr(39) + 'keep_in_touch' + chr(39))} "
    "THEN coalesce({override}, {tags}, {default}) END AS cadence "
    "FROM customers c {joins}WHERE c.id BETWEEN :first AND :last) AS x"
)
_ADD_DUE_COUNTS = (
    "INSERT INTO keep_in_touch_due_counts (due_on, customers) "
    "SELECT next_due_on, count(*) FROM contact_rhythm "
    "WHERE customer_id BETWEEN :first AND :last AND next_due_on IS NOT NULL "
    "GROUP BY next_due_on ON CONFLICT (due_on) DO UPDATE SET "
    "customers = keep_in_touch_due_counts.customers + excluded.customers"
)

def insert_new_rhythm(session: Session, params: dict[str, object],
                      settings: TouchpointSettings, last_interactions: str | None,
                      due_count_triggers: Sequence[str]) -> None:
    """store.touchpoints.insert_new_rhythm on PostgreSQL, after its feedback-rhythm refresh:
    the yearly sources, rhythm rows with their final values and due days added to the counts
    of customers params["first"]..params["last"] (just copied, the per-row triggers set
    aside). `last_interactions`: store.touchpoints.insert_new_rhythm's (the SQL of a
    relation of (customer_id, occurred_on), each customer's last interaction day), or None
    when none has one.

    Why: the rhythm rows were inserted dirty, given their last contact day by an UPDATE,
    then recomputed by sync_dirty's UPDATE (three writes of every row, ~8 s of a
    100,000-row import with the ANALYZE the first needed); now one INSERT of joins."""
    from crmcompanion.store.postgres_bulk import foreign_keys_checked_after

    any_tag_cadence = session.execute(text(
        "SELECT 1 FROM tags WHERE cadence_days IS NOT NULL LIMIT 1")).first() is not None
    joins = (f"LEFT JOIN {last_interactions} d ON d.customer_id = c.id "
             if last_interactions else "") + (
        _TAG_CADENCES if any_tag_cadence else "")
    cadence = settings.cadence
    set_aside(session, due_count_triggers, True)
    # Their foreign keys checked once after the two INSERTs, not per row (~260,000 look-ups
    # into customers for 87,588 new customers); only the due-count triggers fire on these
    # tables, set aside here and their work done below.
    with foreign_keys_checked_after(session, ("touchpoint_sources", "contact_rhythm")):
        session.execute(text(_NEW_SOURCES), params)
        session.execute(text(_NEW_RHYTHM.format(
            last="d.occurred_on" if last_interactions else "CAST(NULL AS date)",
            override=_OVERRIDE,
            tags="tc.days" if any_tag_cadence else "NULL", default=_DEFAULT_CADENCE,
            joins=joins)),
            {**params, "key_account": cadence.key_account, "active": cadence.active,
             "lead": cadence.lead, "internal": cadence.internal, "zone": local_zone()})
    set_aside(session, due_count_triggers, False)
    session.execute(text(_ADD_DUE_COUNTS), params)
