"""Realistic sample customers, so a new user (and a benchmark) sees a living app at once.

Dates are spread relative to "today" (the injected clock), so something is always due this
week; non-ASCII names, yearless birthdays and a 29 February birthday are always among them.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

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
)
from crmcompanion.core.errors import DomainError
from crmcompanion.core.text import fold
from crmcompanion.services.changes import Changed
from crmcompanion.store import bulk
from crmcompanion.store import models as m
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
    ("Paris", "FR", "75002", "+331"),
    ("Lyon", "FR", "69002", "+334"),
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


def generate_drafts(count: int, today: date, seed: int = 1) -> list[CustomerDraft]:
    """`count` plausible customers, the same ones for the same seed and day.

    Written for speed (100,000 drafts are part of `demo --customers 100000`, budget 4 s): one
    `random()` call per decision instead of `choice`/`randint` (which cost ~3 calls each),
    folded e-mail bases computed once per name pair, and shared value objects reused.
    """
    rng = random.Random(seed)
    r = rng.random
    n_first, n_last, n_city = len(FIRST_NAMES), len(LAST_NAMES), len(CITIES)
    n_words, n_domains, n_streets = len(COMPANY_WORDS), len(DOMAINS), len(STREETS)
    n_notes, n_tags = len(NOTES), len(TAGS)
    channels = (None, Channel.EMAIL, Channel.PHONE, Channel.SMS)
    tag_counts = (0, 1, 1, 2, 3)
    bases: dict[tuple[str, str], str] = {}
    initials = {first: fold(first)[:1] for first in FIRST_NAMES}
    # Precomputed (month, day) for every day offset used below, instead of timedelta per row.
    offsets = {d: today + timedelta(days=d) for d in range(-40, 341)}
    birthday_years = range(1945, 2007)
    anniversary_years = range(1975, 2025)
    drafts: list[CustomerDraft] = []
    append = drafts.append
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
        kind = Kind.INTERNAL if r() < 0.04 else Kind.EXTERNAL
        roll = r()
        status = Status.ACTIVE if roll < 0.8 else (Status.LEAD if roll < 0.92 else Status.LOST)
        base = bases.get((first, last))
        if base is None:
            base = bases[(first, last)] = _email_base(first, last)
        local = base if r() < 0.7 else f"{base}{1 + int(r() * 99)}"
        emails: tuple[EmailAddress, ...] = (
            EmailAddress(f"{local}@{DOMAINS[int(r() * n_domains)]}", "home"),
        )
        if is_company_contact and r() < 0.5:
            work = f"{initials[first]}.{index}@{DOMAINS[int(r() * n_domains)]}"
            emails = (*emails, EmailAddress(work, "work"))
        phones = (PhoneNumber(f"{prefix}{1000000 + int(r() * 9000000)}", "mobile"),)
        specials: list[SpecialDate] = []
        if r() < 0.85:
            # Spread birthdays around today so the Today view is never empty.
            when = offsets[-40 + int(r() * 371)]
            year = birthday_years[int(r() * 62)] if r() < 0.7 else None
            specials.append(SpecialDate(SpecialDateKind.BIRTHDAY, when.month, when.day, year))
        if r() < 0.25:
            when = offsets[-20 + int(r() * 361)]
            year = anniversary_years[int(r() * 50)] if r() < 0.8 else None
            specials.append(
                SpecialDate(SpecialDateKind.WEDDING_ANNIVERSARY, when.month, when.day, year)
            )
        if r() < 0.05:
            when = offsets[int(r() * 201)]
            specials.append(
                SpecialDate(SpecialDateKind.CUSTOM, when.month, when.day, None, "Shop opening")
            )
        since = today - timedelta(days=30 + int(r() * (365 * 15 - 29)))
        how_many = tag_counts[int(r() * 5)]
        tags: tuple[str, ...] = ()
        if how_many:
            tags = tuple(sorted({TAGS[int(r() * n_tags)] for _ in range(how_many)}))
        append(
            CustomerDraft(
                first_name=first,
                last_name=last,
                company=company,
                emails=emails,
                phones=phones,
                address=PostalAddress(
                    f"{STREETS[int(r() * n_streets)]} {1 + int(r() * 120)}",
                    city,
                    "",
                    postcode,
                    country,
                ),
                tags=tags,
                status=status,
                kind=kind,
                key_account=r() < 0.05,
                preferred_channel=channels[int(r() * 4)],
                customer_since=since,
                notes=NOTES[int(r() * n_notes)],
                special_dates=tuple(specials),
            )
        )
    return _guarantee_interesting_cases(drafts, today)


def _guarantee_interesting_cases(drafts: list[CustomerDraft], today: date) -> list[CustomerDraft]:
    """Whatever the seed: a birthday today and this week, a yearless one, a 29 February."""
    from dataclasses import replace

    fixed = [
        SpecialDate(SpecialDateKind.BIRTHDAY, today.month, today.day, today.year - 40),
        SpecialDate(SpecialDateKind.BIRTHDAY, 2, 29, 1988),
    ]
    soon = today + timedelta(days=3)
    fixed.append(SpecialDate(SpecialDateKind.BIRTHDAY, soon.month, soon.day, None))
    for index, special in enumerate(fixed[: len(drafts)]):
        others = tuple(s for s in drafts[index].special_dates if s.kind != special.kind)
        drafts[index] = replace(
            drafts[index], status=Status.ACTIVE, special_dates=(special, *others)
        )
    return drafts


def fill_demo(
    db: Database,
    clock: Clock,
    count: int,
    seed: int = 1,
    append: bool = False,
    staff_id: int | None = None,
) -> Changed:
    """Insert `count` sample customers in one transaction; refuses a non-empty database."""
    if count < 1:
        raise DomainError("--customers must be at least 1.")
    with bulk.paused_gc():
        drafts = generate_drafts(count, clock.today(), seed)
        _insert(db, drafts, append, staff_id)
    return Changed(customer_list=True, tags=True)


def _insert(db: Database, drafts: list[CustomerDraft], append: bool, staff_id: int | None) -> None:
    with db.write() as session:
        existing = session.scalar(select(func.count()).select_from(m.Customer)) or 0
        if existing and not append:
            raise DomainError(
                f"The database already holds {existing:,} customers; use --append to add "
                "sample customers anyway."
            )
        bulk.insert_customers(session, drafts, utcnow(), staff_id)
