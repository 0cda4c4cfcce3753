"""Export -> import of 1,000 varied customers gives identical drafts."""

from __future__ import annotations

import random
from datetime import date

import pytest

from crmcompanion.core.csv_export import ExportOptions, export_csv
from crmcompanion.core.csv_import import Format, inspect_csv, iter_parsed_batches
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

NAMES = ["Anna", "Jörg", "Zoë", "José", "Søren", "Łukasz", "Ἀθηνᾶ", "李雷", "O'Neil", "=1+1",
         "+plus", "-minus", "@handle", "Smith, Jr.", 'Say "hi"', "Ann;Marie", "'=quoted"]
TEXTS = ["", "plain", "Line one\nLine two", "Windows\r\nlines", '"Quoted", with comma',
         "=HYPERLINK(\"http://x\")", "\tstarts with tab", "-5 apples", "@mention", "semi;colon",
         "trailing space ", "  leading spaces", "üñíçødé ✓", "'=already", "\rcarriage"]
PHONES = ["+4930901820", "+4915123456789", "+34612345678", "+12175550134", "ext. 12", "-12"]
LABELS = ["home", "work", "", "Privé", "mobile"]
TAGS = ["VIP", "Bäckerei", "=SUM(A1)", "+49", "weekly", "a,b", 'q"t', "x;y"]


def special(rng: random.Random, kind: SpecialDateKind, label: str = "") -> SpecialDate:
    choice = rng.random()
    if choice < 0.15:
        return SpecialDate(kind, 2, 29, rng.choice([None, 1972, 2000, 1996]), label)
    year = None if choice < 0.4 else rng.randint(1900, 2030)
    return SpecialDate(kind, rng.randint(1, 12), rng.randint(1, 28), year, label)


def make_customer(rng: random.Random, i: int) -> CustomerDraft:
    specials: list[SpecialDate] = []
    if rng.random() < 0.7:
        specials.append(special(rng, SpecialDateKind.BIRTHDAY))
    if rng.random() < 0.3:
        specials.append(special(rng, SpecialDateKind.WEDDING_ANNIVERSARY))
    for _ in range(rng.randint(0, 2)):
        specials.append(special(rng, SpecialDateKind.CUSTOM,
                                rng.choice(["First visit", "Shop opening day", "", "=x"])))
    return CustomerDraft(
        first_name=rng.choice(NAMES),
        last_name=rng.choice([*NAMES, ""]),
        display_name=rng.choice(["", "", rng.choice(NAMES) + " " + rng.choice(NAMES)]),
        company=rng.choice(["", "Müller & Söhne GmbH", "=Evil Corp", "ACME, Inc."]),
        emails=tuple(EmailAddress(f"user{i}.{k}@Example{k}.com", rng.choice(LABELS))
                     for k in range(rng.randint(0, 3))),
        phones=tuple(PhoneNumber(p, rng.choice(LABELS))
                     for p in rng.sample(PHONES, rng.randint(0, 3))),
        address=rng.choice([
            PostalAddress(),
            PostalAddress("Hauptstraße 1\nHinterhaus", "Berlin", "", "01067", "DE"),
            PostalAddress("12 Main St", "Springfield", "IL", "+62701", "United States"),
            PostalAddress("", "Zürich", "ZH", "-8000", "Schweiz"),
        ]),
        tags=tuple(rng.sample(TAGS, rng.randint(0, 3))),
        status=rng.choice(list(Status)),
        kind=rng.choice(list(Kind)),
        key_account=rng.random() < 0.2,
        preferred_channel=rng.choice([None, *Channel]),
        customer_since=rng.choice([None, date(2019, 4, 1), date(2000, 2, 29),
                                   date(1999, 12, 31)]),
        notes=rng.choice(TEXTS),
        special_dates=tuple(specials),
        source_uid=rng.choice(["", f"urn:uuid:{rng.getrandbits(64):016x}", f"-{i}"]),
    )


@pytest.mark.parametrize(("delimiter", "bom"), [(",", True), (";", False)])
def test_round_trip_of_1000_varied_customers_is_exact(tmp_path, delimiter, bom):
    rng = random.Random(20240229)
    customers = [make_customer(rng, i) for i in range(1000)]
    path = tmp_path / "export.csv"
    written = export_csv(iter(customers), path, ExportOptions(delimiter=delimiter, bom=bom))
    assert written == 1000
    report = inspect_csv(path, default_region="DE")
    assert report.ok, report.issues[:5]
    assert report.format == Format.OWN and report.delimiter == delimiter
    assert report.ignored_headers == ()
    imported = [row for batch in iter_parsed_batches(report, batch_size=128) for row in batch]
    assert len(imported) == 1000
    for original, row in zip(customers, imported, strict=True):
        assert row.draft == original
    # Matching keys come along: lowercased emails and E.164 phones only.
    first_with_email = next(r for r in imported if r.draft.emails)
    assert first_with_email.emails[0] == first_with_email.draft.emails[0].address.lower()
    assert all(p.startswith("+") for r in imported for p in r.phones)
    assert {r.source_uid for r in imported} == {c.source_uid for c in customers}
