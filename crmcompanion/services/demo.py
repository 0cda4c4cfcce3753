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


def _email_local(first: str, last: str, rng: random.Random) -> str:
    base = "".join(ch for ch in fold(f"{first}.{last}") if ch.isalnum() or ch == ".")
    return base if rng.random() < 0.7 else f"{base}{rng.randint(1, 99)}"


def generate_drafts(count: int, today: date, seed: int = 1) -> list[CustomerDraft]:
    rng = random.Random(seed)
    drafts: list[CustomerDraft] = []
    for index in range(count):
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        city, country, postcode, prefix = rng.choice(CITIES)
        is_company_contact = rng.random() < 0.25
        company = (
            f"{rng.choice(LAST_NAMES)} {rng.choice(COMPANY_WORDS)}" if is_company_contact else ""
        )
        kind = Kind.INTERNAL if rng.random() < 0.04 else Kind.EXTERNAL
        status = rng.choices((Status.ACTIVE, Status.LEAD, Status.LOST), (0.8, 0.12, 0.08))[0]
        emails = [EmailAddress(f"{_email_local(first, last, rng)}@{rng.choice(DOMAINS)}", "home")]
        if is_company_contact and rng.random() < 0.5:
            emails.append(EmailAddress(f"{fold(first)[:1]}.{index}@{rng.choice(DOMAINS)}", "work"))
        phones = [PhoneNumber(f"{prefix}{rng.randint(1000000, 9999999)}", "mobile")]
        specials: list[SpecialDate] = []
        if rng.random() < 0.85:
            # Spread birthdays around today so the Today view is never empty.
            when = today + timedelta(days=rng.randint(-40, 330))
            year = rng.randint(1945, 2006) if rng.random() < 0.7 else None
            specials.append(SpecialDate(SpecialDateKind.BIRTHDAY, when.month, when.day, year))
        if rng.random() < 0.25:
            when = today + timedelta(days=rng.randint(-20, 340))
            year = rng.randint(1975, 2024) if rng.random() < 0.8 else None
            specials.append(
                SpecialDate(SpecialDateKind.WEDDING_ANNIVERSARY, when.month, when.day, year)
            )
        if rng.random() < 0.05:
            when = today + timedelta(days=rng.randint(0, 200))
            specials.append(
                SpecialDate(SpecialDateKind.CUSTOM, when.month, when.day, None, "Shop opening")
            )
        since = today - timedelta(days=rng.randint(30, 365 * 15))
        tags = tuple(sorted(set(rng.sample(TAGS, rng.choice((0, 1, 1, 2, 3))))))
        drafts.append(
            CustomerDraft(
                first_name=first,
                last_name=last,
                company=company,
                emails=tuple(emails),
                phones=tuple(phones),
                address=PostalAddress(
                    f"{rng.choice(STREETS)} {rng.randint(1, 120)}", city, "", postcode, country
                ),
                tags=tags,
                status=status,
                kind=kind,
                key_account=rng.random() < 0.05,
                preferred_channel=rng.choice((None, Channel.EMAIL, Channel.PHONE, Channel.SMS)),
                customer_since=since,
                notes=rng.choice(NOTES),
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
    drafts = generate_drafts(count, clock.today(), seed)
    with db.write() as session:
        existing = session.scalar(select(func.count()).select_from(m.Customer)) or 0
        if existing and not append:
            raise DomainError(
                f"The database already holds {existing:,} customers; use --append to add "
                "sample customers anyway."
            )
        bulk.insert_customers(session, drafts, utcnow(), staff_id)
    return Changed(customer_list=True, tags=True)
