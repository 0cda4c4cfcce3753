"""Realistic sample customers, so a new user (and a benchmark) sees a living app at once.

Dates are spread relative to "today" (the injected clock), so something is always due this
week; non-ASCII names, yearless birthdays and a 29 February birthday are always among them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from crmcompanion.core.clock import Clock
from crmcompanion.core.customer import (
    Channel,
    CustomerDraft,
    EmailAddress,
    Kind,
    PhoneNumber,
    PostalAddress,
    SpecialDate,
    SpecialDateKind,
    Status,
    new_uids,
)
from crmcompanion.core.errors import DomainError
from crmcompanion.core.text import (
    PHONE_RUN_END,
    country_code_length,
    fold,
    indexable,
    sort_key,
)
from crmcompanion.infra import forking
from crmcompanion.services.changes import Changed
from crmcompanion.services.feedback_demo import fill_feedback
from crmcompanion.services.insights_demo import fill_insights
from crmcompanion.services.settings import SettingsService
from crmcompanion.services.touchpoints import TouchpointService
from crmcompanion.store import bulk
from crmcompanion.store import customers as customer_repo
from crmcompanion.store import models as m
from crmcompanion.store import rows as store_rows
from crmcompanion.store import touchpoints as touchpoint_repo
from crmcompanion.store.database import Database, utcnow

FIRST_NAMES = (
    "Anna",
    "Lukas",
    "Sofia",
    "Jonas",
    "Émilie",
    "Mateo",
    "Zoë",
    "Søren",
    "Łukasz",
    "Chloé",
    "Noah",
    "Aisha",
    "José",
    "Björn",
    "Ingrid",
    "Mia",
    "Oliver",
    "Hannah",
    "Liam",
    "Amélie",
    "Grace",
    "Ethan",
    "Fatima",
    "Kenji",
    "Yuki",
    "Priya",
    "Arjun",
    "Olga",
    "Dmitri",
    "Niamh",
    "Seán",
    "Ana",
    "João",
    "François",
    "Jürgen",
    "Małgorzata",
    "Renée",
    "Chiara",
    "Giulia",
    "Marco",
    "Elena",
    "Tomás",
    "Agnès",
    "Zeynep",
    "Mehmet",
    "Lena",
    "Paul",
    "Clara",
    "Ben",
    "Emma",
    "Leonie",
    "Felix",
    "Nora",
    "Samuel",
    "Isabel",
    "Hugo",
    "Ida",
    "Oskar",
    "Freya",
)
LAST_NAMES = (
    "Müller",
    "Schmidt",
    "García",
    "Martínez",
    "Dubois",
    "Lefèvre",
    "Novák",
    "Kowalski",
    "Nowak",
    "Jensen",
    "Nielsen",
    "O'Brien",
    "Murphy",
    "Smith",
    "Johnson",
    "Brown",
    "Wilson",
    "Rossi",
    "Russo",
    "Ferrari",
    "Silva",
    "Santos",
    "Öztürk",
    "Yılmaz",
    "Tanaka",
    "Suzuki",
    "Patel",
    "Sharma",
    "Ivanova",
    "Petrov",
    "Andersson",
    "Johansson",
    "Håkansson",
    "Weiß",
    "Schäfer",
    "Becker",
    "Hoffmann",
    "Fernández",
    "López",
    "Van der Berg",
    "De Vries",
    "Janssen",
    "Kelly",
    "Walsh",
    "Moreau",
    "Laurent",
    "Bianchi",
    "Costa",
    "Dvořák",
    "Horváth",
)
COMPANY_WORDS = (
    "Bakery",
    "Florist",
    "Studio",
    "Garage",
    "Café",
    "Bistro",
    "Consulting",
    "Design",
    "Print Shop",
    "Joinery",
    "Dental",
    "Salon",
    "Books",
    "Cycles",
    "Hardware",
    "Wines",
)
CITIES = (
    ("Berlin", "DE", "10115", "+4930"),
    ("München", "DE", "80331", "+4989"),
    ("Paris", "FR", "75002", "+3314"),
    ("Lyon", "FR", "69002", "+3347"),
    ("Madrid", "ES", "28013", "+3491"),
    ("Kraków", "PL", "31-042", "+4812"),
    ("Dublin", "IE", "D02 X285", "+3531"),
    ("Springfield", "US", "62701", "+1217"),
    ("Portland", "US", "97205", "+1503"),
    ("Göteborg", "SE", "411 01", "+4631"),
)
STREETS = (
    "Hauptstraße",
    "Rue de la Paix",
    "Calle Mayor",
    "Main Street",
    "Kingsway",
    "Storgatan",
    "ul. Floriańska",
    "Market Square",
    "Mill Lane",
    "Church Road",
)
TAGS = (
    "VIP",
    "Newsletter",
    "Wholesale",
    "Wedding",
    "Corporate",
    "Regular",
    "Referral",
    "Trade fair",
    "Gift cards",
    "Catering",
    "Café",
    "Online",
)
NOTES = (
    "Prefers calls after 5 pm.",
    "Allergic to lilies – never in arrangements.",
    "Orders the same cake every year for her daughter.",
    "Met at the spring trade fair.",
    "Likes to pay by invoice.",
    "Daughter Léa starts university in October.",
    "Asked about a loyalty card.",
    "Very happy with the last delivery.",
    "",
)
DOMAINS = ("example.com", "example.org", "mail.example.net", "post.example.de")


def _email_base(first: str, last: str) -> str:
    return "".join(ch for ch in fold(f"{first}.{last}") if ch.isalnum() or ch == ".")


# A plain tuple per sample customer, the one source both `generate_drafts` and the fast
# insert path read: (first, last, company, kind, status, emails ((address, label), ...),
# phone, street, city, postcode, country, tags, key_account, channel, since, notes,
# special dates ((kind, month, day, year, label), ...)).
_Spec = tuple


def _specs(count: int, today: date, seed: int) -> list[_Spec]:
    """`count` plausible customers, the same ones for the same seed and day.

    Written for speed (100,000 are part of `demo --customers 100000`, budget 4 s): one
    `random()` call per decision instead of `choice`/`randint` (which cost ~3 calls each),
    folded e-mail bases computed once per name pair, plain tuples instead of dataclasses.
    """
    rng = random.Random(seed)
    r = rng.random
    n_first, n_last, n_city = len(FIRST_NAMES), len(LAST_NAMES), len(CITIES)
    n_words, n_domains, n_streets = len(COMPANY_WORDS), len(DOMAINS), len(STREETS)
    n_notes, n_tags = len(NOTES), len(TAGS)
    channels = (None, Channel.EMAIL.value, Channel.PHONE.value, Channel.SMS.value)
    tag_counts = (0, 1, 1, 2, 3)
    bases: dict[tuple[str, str], str] = {}
    taken: set[str] = set()
    initials = {first: fold(first)[:1] for first in FIRST_NAMES}
    # Precomputed (month, day) for every day offset used below, instead of timedelta per row.
    offsets = {d: today + timedelta(days=d) for d in range(-40, 341)}
    # Customer since 30 days to 15 years ago, likewise.
    since_days = [today - timedelta(days=30 + d) for d in range(365 * 15 - 29)]
    n_since = len(since_days)
    birthday_years = range(1945, 2007)
    anniversary_years = range(1975, 2025)
    internal, external = Kind.INTERNAL.value, Kind.EXTERNAL.value
    active, lead, lost = Status.ACTIVE.value, Status.LEAD.value, Status.LOST.value
    birthday = SpecialDateKind.BIRTHDAY.value
    wedding = SpecialDateKind.WEDDING_ANNIVERSARY.value
    custom = SpecialDateKind.CUSTOM.value
    specs: list[_Spec] = []
    append = specs.append
    for index in range(count):
        first = FIRST_NAMES[int(r() * n_first)]
        last = LAST_NAMES[int(r() * n_last)]
        city, country, postcode, prefix = CITIES[int(r() * n_city)]
        is_company_contact = r() < 0.25
        company = (
            f"{LAST_NAMES[int(r() * n_last)]} {COMPANY_WORDS[int(r() * n_words)]}"
            if is_company_contact
            else ""
        )
        kind = internal if r() < 0.04 else external
        roll = r()
        status = active if roll < 0.8 else (lead if roll < 0.92 else lost)
        base = bases.get((first, last))
        if base is None:
            base = bases[(first, last)] = _email_base(first, last)
        local = base if r() < 0.7 else f"{base}{1 + int(r() * 99)}"
        home = f"{local}@{DOMAINS[int(r() * n_domains)]}"
        if home in taken:
            # Real customer bases rarely share an address: a taken one gets the customer's
            # number, except one in 200 kept as the duplicate the duplicates finder exists for.
            if r() >= 0.005:
                home = f"{local}.{index}@{home.partition('@')[2]}"
        else:
            taken.add(home)
        emails: tuple[tuple[str, str], ...] = ((home, "home"),)
        if is_company_contact and r() < 0.5:
            work = f"{initials[first]}.{index}@{DOMAINS[int(r() * n_domains)]}"
            emails = (*emails, (work, "work"))
        # Seven local digits starting 2-9 after the city's prefix: a valid number in every
        # demo country (a North American exchange never starts with 0 or 1; Paris and Lyon
        # need their 4x/7x digit for France's nine national digits), so it shows formatted.
        phone = f"{prefix}{2000000 + int(r() * 8000000)}"
        specials: list[tuple[str, int, int, int | None, str]] = []
        if r() < 0.85:
            # Spread birthdays around today so the Today view is never empty.
            when = offsets[-40 + int(r() * 371)]
            year = birthday_years[int(r() * 62)] if r() < 0.7 else None
            specials.append((birthday, when.month, when.day, year, ""))
        if r() < 0.25:
            when = offsets[-20 + int(r() * 361)]
            year = anniversary_years[int(r() * 50)] if r() < 0.8 else None
            specials.append((wedding, when.month, when.day, year, ""))
        if r() < 0.05:
            when = offsets[int(r() * 201)]
            specials.append((custom, when.month, when.day, None, "Shop opening"))
        since = since_days[int(r() * n_since)]
        how_many = tag_counts[int(r() * 5)]
        tags: tuple[str, ...] = ()
        if how_many == 1:
            tags = (TAGS[int(r() * n_tags)],)
        elif how_many:
            tags = tuple(sorted({TAGS[int(r() * n_tags)] for _ in range(how_many)}))
        street = f"{STREETS[int(r() * n_streets)]} {1 + int(r() * 120)}"
        append(
            (first, last, company, kind, status, emails, phone, street, city, postcode, country,
             tags, r() < 0.05, channels[int(r() * 4)], since, NOTES[int(r() * n_notes)],
             tuple(specials))
        )
    _guarantee_interesting_cases(specs, today)
    return specs


def _guarantee_interesting_cases(specs: list[_Spec], today: date) -> None:
    """Whatever the seed: a birthday today and this week, a yearless one, a 29 February."""
    birthday = SpecialDateKind.BIRTHDAY.value
    soon = today + timedelta(days=3)
    fixed = [
        (birthday, today.month, today.day, today.year - 40, ""),
        (birthday, 2, 29, 1988, ""),
        (birthday, soon.month, soon.day, None, ""),
    ]
    for index, special in enumerate(fixed[: len(specs)]):
        spec = list(specs[index])
        spec[4] = Status.ACTIVE.value
        spec[16] = (special, *(s for s in spec[16] if s[0] != special[0]))
        specs[index] = tuple(spec)


def _draft(spec: _Spec) -> CustomerDraft:
    (first, last, company, kind, status, emails, phone, street, city, postcode, country, tags,
     key_account, channel, since, notes, specials) = spec
    return CustomerDraft(
        first_name=first,
        last_name=last,
        company=company,
        emails=tuple(EmailAddress(address, label) for address, label in emails),
        phones=(PhoneNumber(phone, "mobile"),),
        address=PostalAddress(street, city, "", postcode, country),
        tags=tags,
        status=Status(status),
        kind=Kind(kind),
        key_account=key_account,
        preferred_channel=Channel(channel) if channel else None,
        customer_since=since,
        notes=notes,
        special_dates=tuple(
            SpecialDate(SpecialDateKind(k), month, day, year, label)
            for k, month, day, year, label in specials
        ),
    )


def generate_drafts(count: int, today: date, seed: int = 1) -> list[CustomerDraft]:
    """`count` plausible customers as drafts, the same ones for the same seed and day."""
    return [_draft(spec) for spec in _specs(count, today, seed)]


def _rows(
    specs: list[_Spec], first_id: int, stamp: str, staff_id: int | None, tag_ids: dict[str, int]
) -> store_rows.BulkRows:
    """The rows `bulk.rows_from_drafts` makes of these customers' drafts (a test checks),
    without building drafts: names, sort keys and flags are computed once per distinct value."""
    rows = _table_rows(specs, first_id, stamp, staff_id, tag_ids)
    rows.search = _search_rows(specs, first_id)
    return rows


def _city_phones() -> dict[str, tuple[int, str, str]]:
    """Per city: (length of its "+<digits>" phone prefix, international digits, national
    digits with the trunk 0).

    A demo phone is its city's prefix and seven digits, so its two searchable forms
    (`core.text.phone_forms`: all digits, and the national one) are the city's fixed parts
    plus those digits: phone_tokens() re-derived them per row (~0.25 s of 100,000). The test
    comparing with `bulk.rows_from_drafts` checks equality.
    """
    city_phone: dict[str, tuple[int, str, str]] = {}
    for city_name, _, _, prefix in CITIES:
        international = prefix[1:]
        city_phone[city_name] = (
            len(prefix), international, "0" + international[country_code_length(international):]
        )
    return city_phone


def _search_rows(specs: list[_Spec], first_id: int) -> list[store_rows.Row]:
    """The search-index rows (store_rows.BulkRows.search) of these customers.

    The phone column is `core.text.phone_tokens` of the one number: the trigrams of its
    international digits (those within the city's prefix computed once per city), a run end,
    its national form, a run end."""
    search: list[store_rows.Row] = []
    append = search.append
    names: dict[tuple[str, str], str] = {}
    flag_cache: dict[tuple[str, str], str] = {}
    # Per city: where the local digits start in the number, the prefix's own trigrams, the
    # prefix's last two digits (they start the trigrams that reach into the local digits) and
    # the national prefix.
    phone_parts: dict[str, tuple[int, str, str, str]] = {}
    for city, (cut, international, national) in _city_phones().items():
        inner = "".join(f"{international[i : i + 3]} " for i in range(len(international) - 2))
        phone_parts[city] = (cut, inner, international[-2:], f" {PHONE_RUN_END} {national}")
    run_end = f" {PHONE_RUN_END}"
    for offset, spec in enumerate(specs):
        first, last, company, kind, status, mails, phone, city = (
            spec[0], spec[1], spec[2], spec[3], spec[4], spec[5], spec[6], spec[8]
        )
        search_name = names.get((first, last))
        if search_name is None:
            search_name = names[(first, last)] = store_rows.search_name(
                f"{first} {last}", first, last
            )
        flags = flag_cache.get((status, kind))
        if flags is None:
            flags = flag_cache[(status, kind)] = store_rows.search_flags(status, kind, False)
        cut, inner, edge, national = phone_parts[city]
        local = phone[cut:]
        digits = edge + local
        append(
            (first_id + offset, search_name, indexable(company),
             mails[0][0] if len(mails) == 1 else " ".join([a for a, _ in mails]),
             inner + " ".join([digits[i : i + 3] for i in range(len(digits) - 2)]) + national
             + local + run_end,
             indexable(" ".join(spec[11])), indexable(spec[15]), flags)
        )
    return search


def _table_rows(
    specs: list[_Spec], first_id: int, stamp: str, staff_id: int | None, tag_ids: dict[str, int]
) -> store_rows.BulkRows:
    """Every row but the search index's (`search` stays empty)."""
    rows = store_rows.BulkRows()
    customers, emails, phones = rows.customers, rows.emails, rows.phones
    tag_rows, dates = rows.tags, rows.dates
    names: dict[tuple[str, str], tuple[str, str]] = {}
    companies: dict[str, str] = {"": ""}
    tag_keys = {name: tag_ids[name.casefold()] for name in TAGS if name.casefold() in tag_ids}
    city_phone = _city_phones()
    uids = new_uids(len(specs))  # each customer's own random UID, as every new customer has
    for offset, spec in enumerate(specs):
        (first, last, company, kind, status, mails, phone, street, city, postcode, country,
         tags, key_account, channel, since, notes, specials) = spec
        cid = first_id + offset
        named = names.get((first, last))
        if named is None:
            display = f"{first} {last}"
            named = names[(first, last)] = (display, sort_key(display))
        display, sort_name = named
        sort_company = companies.get(company)
        if sort_company is None:
            sort_company = companies[company] = sort_key(company)
        customers.append(
            (cid, first, last, display, company, sort_name, sort_company, mails[0][0], phone,
             ", ".join(tags), street, city, "", postcode, country, status, kind,
             int(key_account), channel, since.isoformat(), notes, uids[offset], 0, None, None,
             stamp,
             stamp, staff_id, staff_id, 1)
        )
        for pos, (address, label) in enumerate(mails):
            emails.append((cid, pos, label, address, address.lower()))
        cut, international, _ = city_phone[city]
        phones.append((cid, 0, "mobile", phone, international + phone[cut:]))
        for tag in tags:
            tag_rows.append((cid, tag_keys[tag]))
        for k, month, day, year, label in specials:
            dates.append((cid, k, label, month, day, year, month * 100 + day))
    return rows


SUMMARIES: dict[str, tuple[str, ...]] = {
    Channel.PHONE.value: (
        "Called about the next order; wants a quote by Friday.",
        "Quick call: happy with the delivery, asked about gift cards.",
        "Phoned to confirm the appointment.",
        "Returned their call about an invoice question.",
        "Talked through the new seasonal range.",
    ),
    Channel.EMAIL.value: (
        "Sent the catalogue and price list.",
        "Answered a question about opening hours.",
        "Emailed the order confirmation and delivery date.",
        "Thanked them for the referral.",
    ),
    Channel.SMS.value: (
        "Texted that the order is ready for pick-up.",
        "Reminder sent for tomorrow's appointment.",
    ),
    Channel.IN_PERSON.value: (
        "Came by the shop; picked up the order and chatted about the family.",
        "Met at the trade fair stand.",
        "Visit to discuss a larger order for the autumn.",
        "Dropped off a thank-you card.",
    ),
}


def _history(
    today: date, first_id: int, count: int, seed: int, staff_id: int | None, stamp: str
) -> list[store_rows.Row]:
    """A year of past conversations: ~80% of customers have 1-3 (mostly 1; ~1.2 per customer
    in all), on weekdays in business hours, so the Today view shows a living business, not
    everyone losing touch: of 100,000 customers ~10% were spoken to in the last week, ~30% in
    the last month, ~2,000 are due a check-in this week and ~45% are past their cadence (the
    20% without a conversation among them). It was 1-5, ~1.9 per customer: 60% more rows to
    load for much the same Today view.
    """
    rng = random.Random(seed * 7919 + 1)
    r = rng.random
    # (occurred_at as stored UTC, occurred_on local) for every day and quarter hour 8:00-17:45,
    # computed once: per-row datetime arithmetic would cost more than the inserts.
    slots: list[list[tuple[str, str]]] = []
    for back in range(1, 366):
        day = today - timedelta(days=back)
        if day.weekday() >= 5 and back > 2:
            day = day - timedelta(days=day.weekday() - 4)  # weekends move to Friday
        local_noon = datetime(day.year, day.month, day.day, 12).astimezone()
        offset = local_noon.utcoffset() or timedelta(0)
        on = day.isoformat()
        slots.append([
            (bulk.iso_timestamp(datetime(day.year, day.month, day.day, 8 + q // 4,
                                         15 * (q % 4)) - offset), on)
            for q in range(40)
        ])
    per_customer = (1, 1, 1, 1, 1, 2, 2, 3)
    channels = tuple(SUMMARIES)
    channel_weights = (0, 0, 0, 0, 1, 1, 2, 3)  # phone and e-mail most, then SMS, visits
    rows: list[store_rows.Row] = []
    append = rows.append
    for cid in range(first_id, first_id + count):
        if r() >= 0.8:
            continue
        for _ in range(per_customer[int(r() * 8)]):
            # Recent conversations are likelier: the square biases days towards today.
            back = int(r() * r() * 365)
            at, on = slots[back][int(r() * 40)]
            channel = channels[channel_weights[int(r() * 8)]]
            texts = SUMMARIES[channel]
            append((cid, at, on, channel, staff_id, texts[int(r() * len(texts))], stamp))
    return rows


# From this many customers the load into an empty database skips the WAL (pages written once,
# ~0.45 s of 100,000); smaller loads (the app's "Add sample customers") gain nothing from it.
_BIG_LOAD = 10_000


def fill_demo(
    db: Database,
    clock: Clock,
    count: int,
    seed: int = 1,
    append: bool = False,
    staff_id: int | None = None,
) -> Changed:
    """Insert `count` sample customers with a year of conversations in one transaction;
    refuses a non-empty database unless `append`."""
    if count < 1:
        raise DomainError("--customers must be at least 1.")
    today = clock.today()
    touchpoint_settings = TouchpointService(db, clock, values=SettingsService(db).all).settings()
    with db.read() as session:
        empty = not session.scalar(select(func.count()).select_from(m.Customer))
    with bulk.paused_gc(), ExitStack() as stack:
        if empty and count >= _BIG_LOAD:
            stack.enter_context(bulk.rollback_journal_if_alone(db))
        specs = _specs(count, today, seed)
        stage = None
        if count >= _BIG_LOAD and forking.can_fork() and db.is_sqlite:  # scratch SQLite parts
            stage = stack.enter_context(bulk.StagedParts(db))
        with db.write() as session:
            existing = session.scalar(select(func.count()).select_from(m.Customer)) or 0
            if existing and not append:
                raise DomainError(
                    f"The database already holds {existing:,} customers; use --append to add "
                    "sample customers anyway."
                )
            first_id = bulk.next_customer_id(session)
            tag_ids = customer_repo.ensure_tags(session, {t for spec in specs for t in spec[11]})
            stamp = bulk.iso_timestamp(utcnow())

            def parts() -> Iterator[store_rows.BulkRows]:
                # Made while SQLite indexes the search rows, in a child process or a worker
                # thread (see bulk.StagedParts, bulk.insert_rows_while_building); plain data
                # in, plain rows out. The history comes apart, to be copied in while the
                # customers' indexes are built.
                yield _table_rows(specs, first_id, stamp, staff_id, tag_ids)
                yield store_rows.BulkRows(
                    interactions=_history(today, first_id, count, seed, staff_id, stamp)
                )

            if stage is not None:
                with stage.running(session, parts):
                    bulk.insert_rows_staged(session, _search_rows(specs, first_id), stage)
            else:
                bulk.insert_rows_while_building(
                    session, _search_rows(specs, first_id), lambda: _joined(parts())
                )
            # The derived touchpoint rows are built here, as the data is written, in the same
            # transaction: left stale, the app's first Today read after a demo built them
            # (1.6 s at 100,000 customers) while the page said "Loading…".
            touchpoint_repo.sync_dirty(session, touchpoint_settings)
            # Feedback, complaints, ideas and public reviews (issue 15), same transaction.
            fill_feedback(session, today, first_id, count, seed, staff_id)
            # Lost reasons, yearly values, the happiest, touchpoint outcomes (issue 16).
            fill_insights(session, today, first_id, count, seed, staff_id)
            # The segments themselves are left to the first answer that needs them (the
            # database's first refresh). Computed here, at the demo's end, they took 1.6-1.8 s
            # CPU at 100,000 customers, ~11% of the demo's ~15.5 s CPU: over the 5% it may
            # grow by (issue 16).
    return Changed(customer_list=True, tags=True, touchpoints=True, interactions=True,
                   feedback=True)


def _joined(parts: Iterator[store_rows.BulkRows]) -> store_rows.BulkRows:
    """The parts' rows as one BulkRows (each table's rows come from one part)."""
    joined = store_rows.BulkRows()
    for part in parts:
        for name, rows in vars(part).items():
            if rows:
                setattr(joined, name, rows)
    return joined
