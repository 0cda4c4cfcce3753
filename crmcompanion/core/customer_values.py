"""A customer draft as plain tuples, for the paths that handle 100,000 customers at a time.

`CustomerDraft` and its parts are frozen dataclasses: building one with its emails, phones,
address and dates costs ~5 µs, and a bulk load then reads every field back out to make row
tuples. The CSV importer parses each row straight into `CustomerValues` (the same fields in the
same order, the parts as plain tuples in their dataclasses' field order), and the bulk loader
makes its rows from those; `draft_of` / `values_of` convert where a real draft is wanted (the
preview's first rows, the careful validation of a row that needs it, tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

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

EmailValues = tuple[str, str]  # EmailAddress: (address, label)
PhoneValues = tuple[str, str]  # PhoneNumber: (number, label)
AddressValues = tuple[str, str, str, str, str]  # PostalAddress: street, city, region, postcode,
# country
SpecialValues = tuple[SpecialDateKind, int, int, "int | None", str]  # SpecialDate: kind, month,
# day, year, label

EMPTY_ADDRESS: AddressValues = ("", "", "", "", "")


class CustomerValues(NamedTuple):
    """`CustomerDraft`'s fields, in its order, with plain tuples for the parts."""

    first_name: str
    last_name: str
    display_name: str
    company: str
    emails: Sequence[EmailValues]
    phones: Sequence[PhoneValues]
    address: AddressValues
    tags: Sequence[str]
    status: Status
    kind: Kind
    key_account: bool
    preferred_channel: Channel | None
    customer_since: date | None
    notes: str
    special_dates: Sequence[SpecialValues]
    source_uid: str


def values_of(draft: CustomerDraft) -> CustomerValues:
    a = draft.address
    return CustomerValues(
        draft.first_name, draft.last_name, draft.display_name, draft.company,
        tuple((e.address, e.label) for e in draft.emails),
        tuple((p.number, p.label) for p in draft.phones),
        (a.street, a.city, a.region, a.postcode, a.country), tuple(draft.tags), draft.status,
        draft.kind, draft.key_account, draft.preferred_channel, draft.customer_since,
        draft.notes,
        tuple((s.kind, s.month, s.day, s.year, s.label) for s in draft.special_dates),
        draft.source_uid,
    )


def draft_of(values: CustomerValues) -> CustomerDraft:
    return CustomerDraft(
        first_name=values.first_name, last_name=values.last_name,
        display_name=values.display_name, company=values.company,
        emails=tuple(EmailAddress(*e) for e in values.emails),
        phones=tuple(PhoneNumber(*p) for p in values.phones),
        address=PostalAddress(*values.address), tags=tuple(values.tags), status=values.status,
        kind=values.kind, key_account=values.key_account,
        preferred_channel=values.preferred_channel, customer_since=values.customer_since,
        notes=values.notes, special_dates=tuple(SpecialDate(*s) for s in values.special_dates),
        source_uid=values.source_uid,
    )

