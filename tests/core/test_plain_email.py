"""core.validation.is_plain_email: a quick yes that never disagrees with the full checks."""

from __future__ import annotations

import random

import pytest

from crmcompanion.core.validation import email_problem, is_plain_email, normalise_email

_PIECES = ["a", "Z", "0", ".", "_", "%", "+", "-", "@", " ", "é", "ß", "..", "@@", "\n", "\t",
           "example", "co", "uk", "Mail", "x-y", "1", "'", "!"]


@pytest.mark.parametrize("address", [
    "anna@example.com", "Anna.Meyer+crm@mail.example.co.uk", "o_brien%x@a-b.io",
    "1@2.de", "x@sub-domain.example.museum",
])
def test_plain_addresses_are_accepted_unchanged(address: str) -> None:
    assert is_plain_email(address)
    assert normalise_email(address) == address and email_problem(address) is None


@pytest.mark.parametrize("address", [
    "anna@Example.com",  # the domain is lowercased by normalise_email
    " anna@example.com",  # trimmed
    ".anna@example.com", "anna.@example.com", "an..na@example.com",
    "anna@example", "anna@example.c", "anna@-example.com", "anna@example-.com",
    "anna@@example.com", "an na@example.com", "jürgen@example.de", "anna@exämple.de",
    "anna@example.com\n",
])
def test_other_addresses_are_left_to_the_full_checks(address: str) -> None:
    assert not is_plain_email(address)


def test_random_addresses_never_get_a_yes_the_full_checks_would_not_give() -> None:
    rng = random.Random(20261122)
    said_yes = 0
    for _ in range(50_000):
        address = "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 9)))
        if rng.random() < 0.5:
            domain = rng.choice(["example", "Ex", "a-b", "x"])
            address = f"{address}@{domain}.{rng.choice(['com', 'de', 'C', 'io'])}"
        if is_plain_email(address):
            said_yes += 1
            assert normalise_email(address) == address, address
            assert email_problem(address) is None, address
    assert said_yes > 1000  # the property was really exercised
