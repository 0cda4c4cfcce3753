"""Plain value types for customer profiles, shared by every layer.

Services accept a `CustomerDraft` (what a form, an import or the CLI wants to save) and return
`Customer` (what was stored). Both are frozen dataclasses so no ORM object, and no lazy load,
ever reaches the UI thread.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

# A customer's UID (`source_uid`): random, so two address books never give two unrelated
# people the same one (an id-derived UID made customer #1 of every book "the same person"
# when one book's export was imported into another). Kept from the file when an import
# brings one; imports match stored customers by it.
UID_PREFIX = "urn:uuid:"
# The variant nibble of an RFC 4122 UUID: the random nibble with its top bits set to 10.
_UUID_VARIANT = {f"{n:x}": f"{8 | (n & 3):x}" for n in range(16)}


def new_uids(count: int) -> list[str]:
    """`count` random UIDs ("urn:uuid:" + a version 4 UUID), as `uuid.uuid4` would make them
    from os.urandom, at a tenth of its cost (a bulk load makes one per customer: uuid4 took
    ~1 s of 100,000, this ~0.1 s)."""
    randoms = os.urandom(16 * count).hex()
    variant = _UUID_VARIANT
    return [f"{UID_PREFIX}{x[:8]}-{x[8:12]}-4{x[13:16]}-{variant[x[16]]}{x[17:20]}-{x[20:32]}"
            for x in (randoms[i:i + 32] for i in range(0, 32 * count, 32))]


def new_uid() -> str:
    """One random customer UID (see `new_uids`)."""
    return new_uids(1)[0]


class Status(StrEnum):
    """The stored lifecycle status. "At risk" is computed by insight rules, never stored."""

    LEAD = "lead"
    ACTIVE = "active"
    LOST = "lost"


class Kind(StrEnum):
    """A colleague or a department can be a customer too (an internal customer)."""

    EXTERNAL = "external"
    INTERNAL = "internal"


class Channel(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    SMS = "sms"
    IN_PERSON = "in_person"
    LETTER = "letter"
    OTHER = "other"


class SpecialDateKind(StrEnum):
    BIRTHDAY = "birthday"
    WEDDING_ANNIVERSARY = "wedding_anniversary"
    CUSTOM = "custom"


@dataclass(frozen=True)
class EmailAddress:
    address: str
    label: str = "home"


@dataclass(frozen=True)
class PhoneNumber:
    """`number` is E.164 when it could be parsed (`+4930123456`), else as typed."""

    number: str
    label: str = "mobile"


@dataclass(frozen=True)
class PostalAddress:
    street: str = ""
    city: str = ""
    region: str = ""
    postcode: str = ""
    country: str = ""

    def is_empty(self) -> bool:
        return not any((self.street, self.city, self.region, self.postcode, self.country))

    def one_line(self) -> str:
        parts = [self.street, " ".join(p for p in (self.postcode, self.city) if p),
                 self.region, self.country]
        return ", ".join(p for p in parts if p)


@dataclass(frozen=True)
class SpecialDate:
    """A yearly date. `year` is None when unknown; 29 February is a valid (month, day)."""

    kind: SpecialDateKind
    month: int
    day: int
    year: int | None = None
    label: str = ""

    @property
    def title(self) -> str:
        if self.kind is SpecialDateKind.CUSTOM:
            return self.label or "Special date"
        return "Birthday" if self.kind is SpecialDateKind.BIRTHDAY else "Wedding anniversary"


@dataclass(frozen=True)
class CustomerDraft:
    """Everything a user can type about a customer; validated by `core.validation`."""

    first_name: str = ""
    last_name: str = ""
    display_name: str = ""
    company: str = ""
    emails: tuple[EmailAddress, ...] = ()
    phones: tuple[PhoneNumber, ...] = ()
    address: PostalAddress = field(default_factory=PostalAddress)
    tags: tuple[str, ...] = ()
    status: Status = Status.ACTIVE
    kind: Kind = Kind.EXTERNAL
    key_account: bool = False
    preferred_channel: Channel | None = None
    customer_since: date | None = None
    notes: str = ""
    special_dates: tuple[SpecialDate, ...] = ()
    source_uid: str = ""

    def effective_display_name(self) -> str:
        """The name shown in lists: the explicit display name, else the person, else company."""
        if self.display_name.strip():
            return self.display_name.strip()
        person = " ".join(p for p in (self.first_name.strip(), self.last_name.strip()) if p)
        return person or self.company.strip()


@dataclass(frozen=True)
class Customer:
    """A stored customer profile, as read in one unit of work."""

    id: int
    first_name: str
    last_name: str
    display_name: str
    company: str
    emails: tuple[EmailAddress, ...]
    phones: tuple[PhoneNumber, ...]
    address: PostalAddress
    tags: tuple[str, ...]
    status: Status
    kind: Kind
    key_account: bool
    preferred_channel: Channel | None
    customer_since: date | None
    notes: str
    special_dates: tuple[SpecialDate, ...]
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    source_uid: str = ""
    # Who made the record and who saved it last (staff names; "" when not recorded).
    created_by_name: str = ""
    updated_by_name: str = ""

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def to_draft(self) -> CustomerDraft:
        return CustomerDraft(
            first_name=self.first_name,
            last_name=self.last_name,
            display_name=self.display_name,
            company=self.company,
            emails=self.emails,
            phones=self.phones,
            address=self.address,
            tags=self.tags,
            status=self.status,
            kind=self.kind,
            key_account=self.key_account,
            preferred_channel=self.preferred_channel,
            customer_since=self.customer_since,
            notes=self.notes,
            special_dates=self.special_dates,
            source_uid=self.source_uid,
        )


@dataclass(frozen=True)
class CustomerRow:
    """One line of the customer list: only what the table shows, cheap to fetch in pages."""

    id: int
    display_name: str
    company: str
    email: str
    phone: str
    tags: str
    status: Status
    kind: Kind
    key_account: bool
    archived: bool
    updated_at: datetime
    # The list's "Last contact" and "Next occasion" columns (None / "" when there is none).
    last_contact: date | None = None
    next_occasion: str = ""  # "Birthday", "Wedding anniversary" or a special date's label
    next_occasion_on: date | None = None
    # The optional "Segment" and "Reasons" columns (issue 16): the stored health segment's
    # value ("at_risk") and its reasons in words; "" for archived customers.
    segment: str = ""
    segment_reasons: str = ""
