"""The import's fast row validation must give exactly what the old path gave: the same
cleaned drafts and the same problems, on a varied generated set of drafts."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date

from crmcompanion.core.customer import (
    CustomerDraft,
    EmailAddress,
    PhoneNumber,
    SpecialDate,
    SpecialDateKind,
)
from crmcompanion.core.customer_values import draft_of, values_of
from crmcompanion.core.errors import ValidationError
from crmcompanion.core.validation import validate_customer
from crmcompanion.services.import_export import (
    RowProblem,
    _clean_values,
    _is_e164,
    _phone_or_typed,
    _validated,
)


def _old_validated(line: int, draft: CustomerDraft, region: str,
                   rejected: list[RowProblem]) -> CustomerDraft | None:
    # The service's validation before the fast path, kept verbatim (columns as for vCard),
    # but for issue 18: an E.164 number without a label gets the default label too.
    phones = tuple(PhoneNumber(p.number, p.label or "mobile") if _is_e164(p.number) else
                   PhoneNumber(_phone_or_typed(p.number, region), p.label.strip() or "mobile")
                   for p in draft.phones if p.number.strip())
    try:
        return replace(validate_customer(replace(draft, phones=()), region), phones=phones)
    except ValidationError as exc:
        for key, message in exc.field_errors.items():
            rejected.append(RowProblem(line, key.split(".")[0].replace("_", " "), message,
                                       "invalid"))
        return None


def _drafts(n: int) -> list[CustomerDraft]:
    rng = random.Random(61)
    names = ["", " Anna ", "José", "李", "x" * 201, "O'Brien", "  ", "Zoë\n"]
    emails = ["a@example.org", " B@Example.ORG ", "bad@", "two@@x.de", "a b@x.de", "",
              ".dot@x.de", "ok.name+tag@sub.example.co.uk"]
    phones = ["+4930123456", "030 123456", "+49030123456", "", "12", "+1 555 0100", "abc"]
    tags = ["VIP", "vip", " spaced  tag ", "", "t" * 61, "Newsletter"]
    specials = [SpecialDate(SpecialDateKind.BIRTHDAY, 2, 29, None),
                SpecialDate(SpecialDateKind.BIRTHDAY, 2, 29, 1971),
                SpecialDate(SpecialDateKind.CUSTOM, 5, 1, 2000, ""),
                SpecialDate(SpecialDateKind.CUSTOM, 5, 1, None, "Shop"),
                SpecialDate(SpecialDateKind.WEDDING_ANNIVERSARY, 4, 31, 1990)]
    out = []
    for _ in range(n):
        out.append(CustomerDraft(
            first_name=rng.choice(names), last_name=rng.choice(names),
            display_name=rng.choice(["", " Shown "]), company=rng.choice(["", " ACME "]),
            emails=tuple(EmailAddress(rng.choice(emails), rng.choice(["", " work ", "home"]))
                         for _ in range(rng.randint(0, 2))),
            phones=tuple(PhoneNumber(rng.choice(phones), rng.choice(["", " mobile"]))
                         for _ in range(rng.randint(0, 2))),
            tags=tuple(rng.choice(tags) for _ in range(rng.randint(0, 3))),
            special_dates=tuple(rng.choice(specials) for _ in range(rng.randint(0, 2))),
            customer_since=rng.choice([None, date(1899, 12, 31), date(2020, 1, 2)]),
            notes=rng.choice(["", "note", "n" * 100_001]),
        ))
    return out


def test_fast_validation_gives_the_old_drafts_and_problems() -> None:
    drafts = _drafts(3000)
    accepted = quick = 0
    for line, draft in enumerate(drafts, 2):
        old_problems: list[RowProblem] = []
        new_problems: list[RowProblem] = []
        old = _old_validated(line, draft, "DE", old_problems)
        new = _validated(line, draft, "DE", new_problems, "vcard")
        assert new == old, draft
        assert new_problems == old_problems
        # The quick check on plain values accepts only what the full one accepts, as it does.
        clean = _clean_values(values_of(draft), "DE")
        if clean is not None:
            assert draft_of(clean) == old, draft
            quick += 1
        accepted += old is not None
    assert 100 < accepted < 2900  # both branches are exercised
    assert quick == accepted  # and the quick check misses none of these


def test_new_uids_are_random_version_4_uuids() -> None:
    import uuid

    from crmcompanion.core.customer import UID_PREFIX, new_uids

    uids = new_uids(3000)
    assert len(set(uids)) == 3000
    for uid in uids:
        assert uid.startswith(UID_PREFIX)
        parsed = uuid.UUID(uid[len(UID_PREFIX):])
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == uid[len(UID_PREFIX):]
