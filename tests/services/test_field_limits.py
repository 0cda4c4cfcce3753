"""Every limit holds on every path: what the app stores it exports and imports back, and a
name that shows nothing is refused by the one validation the editor, the service and imports
share. (Issue 18: a 300-character display name made of two 150-character names was exported,
then rejected on import with "At most 200 characters".)"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

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
from crmcompanion.core.errors import ValidationError
from crmcompanion.core.validation import (
    INVISIBLE_NAME,
    MAX_DISPLAY_NAME_LENGTH,
    MAX_EMAIL_LENGTH,
    MAX_NAME_LENGTH,
    MAX_NOTES_LENGTH,
    MAX_TAG_LENGTH,
    validate_customer,
)
from crmcompanion.services.container import Services, open_services
from crmcompanion.store.customers import ListQuery


def _email(length: int, n: int) -> str:
    domain = f"@d{n}.example.org"
    local = ".".join("x" * 60 for _ in range(4))[: length - len(domain)]
    return local + domain


def _longest(display: str = "") -> CustomerDraft:
    """A customer with every field at its limit (or, where there is none, long)."""
    notes = ("Ünïcode line with a “quote”, a comma, and a tab\t.\n" * 4000)[:MAX_NOTES_LENGTH]
    return CustomerDraft(
        first_name="F" * (MAX_NAME_LENGTH - 1) + "é",
        last_name="L" * (MAX_NAME_LENGTH - 1) + "ß",
        display_name=display,
        company="C" * MAX_NAME_LENGTH,
        emails=(EmailAddress(_email(MAX_EMAIL_LENGTH, 1), "work"),
                EmailAddress(_email(MAX_EMAIL_LENGTH, 2), "home")),
        phones=(PhoneNumber("+4930123456789", "work"), PhoneNumber("+14155550123", "mobile")),
        address=PostalAddress("S" * 500, ("City " * 40).strip(), "R" * 200, "P" * 40,
                              ("Country " * 25).strip()),
        tags=tuple(f"{i}" + "t" * (MAX_TAG_LENGTH - 1) for i in range(5)),
        status=Status.LEAD, kind=Kind.INTERNAL, key_account=True,
        preferred_channel=Channel.EMAIL, customer_since=date(2001, 2, 3), notes=notes,
        special_dates=(SpecialDate(SpecialDateKind.BIRTHDAY, 2, 29, 1984),
                       SpecialDate(SpecialDateKind.WEDDING_ANNIVERSARY, 6, 1, 2010),
                       SpecialDate(SpecialDateKind.CUSTOM, 12, 31, None, ("Label " * 33).strip())),
    )


@pytest.mark.parametrize("kind", ["csv", "vcard"])
@pytest.mark.parametrize("display", ["", "D" * MAX_DISPLAY_NAME_LENGTH])
def test_a_customer_at_every_limit_goes_out_and_comes_back(
        services: Services, tmp_path: Path, kind: str, display: str) -> None:
    stored = services.customers.create(_longest(display)).customer
    assert len(stored.display_name) == MAX_DISPLAY_NAME_LENGTH
    out = tmp_path / f"out.{'csv' if kind == 'csv' else 'vcf'}"
    if kind == "csv":
        services.import_export.export_csv(out, ListQuery(archived=None))
    else:
        services.import_export.export_vcard(out, ListQuery(archived=None))
    folder = tmp_path / "other"
    folder.mkdir()
    other = open_services(f"sqlite:///{folder / 'db.sqlite3'}", folder / "b", services.clock)
    try:
        preview = other.import_export.preview(out)
        assert preview.problems == ()
        assert other.import_export.run(preview.plan).created == 1
        back = other.customers.get(1).to_draft()
    finally:
        other.close()
    assert back == stored.to_draft()


def test_the_store_refuses_what_an_import_would_refuse(services: Services) -> None:
    too_long = {
        "first_name": CustomerDraft(first_name="F" * (MAX_NAME_LENGTH + 1)),
        "display_name": CustomerDraft(display_name="D" * (MAX_DISPLAY_NAME_LENGTH + 1)),
        "company": CustomerDraft(company="C" * (MAX_NAME_LENGTH + 1)),
        "notes": CustomerDraft(first_name="A", notes="n" * (MAX_NOTES_LENGTH + 1)),
        "tags": CustomerDraft(first_name="A", tags=("t" * (MAX_TAG_LENGTH + 1),)),
        "emails.0": CustomerDraft(first_name="A", emails=(
            EmailAddress(_email(MAX_EMAIL_LENGTH + 1, 3)),)),
    }
    for field_name, draft in too_long.items():
        with pytest.raises(ValidationError) as caught:
            services.customers.create(draft)
        assert field_name in caught.value.field_errors, field_name


INVISIBLE = ["\u200b\u200b", "\u200e\u200f", "\u202e", "\u2066\u2069", "\u0301\u0308",
             "\ufeff", "\u2060", "\u00ad", "\u3164", "\u2800", " \u200b \u180e "]


@pytest.mark.parametrize("name", INVISIBLE)
def test_a_name_of_only_invisible_characters_is_refused(services: Services, name: str) -> None:
    for field_name in ("first_name", "last_name", "display_name", "company"):
        fields = {field_name: name}
        if field_name != "first_name":
            fields["first_name"] = "Ann"  # a visible name elsewhere does not save it
        with pytest.raises(ValidationError) as caught:
            services.customers.create(CustomerDraft(**fields))
        assert caught.value.field_errors.get(field_name) == INVISIBLE_NAME
    # Visible text with invisible characters around it is a name.
    assert validate_customer(CustomerDraft(first_name=f"{name}Ann")).first_name
    assert services.customers.total() == 0


def test_an_import_refuses_invisible_names_with_the_same_reason(
        services: Services, tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_text("First name,Last name,Company\nAnn,Ok,\n\u0301\u0308,,\nBob,\u3164,\n"
                    ",,\u2800\n", encoding="utf-8")
    preview = services.import_export.preview(path)
    assert sorted(p.line for p in preview.problems) == [3, 4, 5]
    assert all(INVISIBLE_NAME in p.reason for p in preview.problems)
    result = services.import_export.run(preview.plan, skip_invalid=True)
    assert result.created == 1 and services.customers.total() == 1
