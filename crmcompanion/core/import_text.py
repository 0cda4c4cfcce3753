"""The import's one sanitising step: bytes to text, and text from a file to stored values.

Every import format (CSV, vCard) passes through here, so a hostile or broken file is handled
the same way whichever door it comes in by:

- Bytes to text (`detect_encoding`, `decode_file`): a BOM decides (UTF-8, UTF-16); UTF-16
  without a BOM is told by its NUL bytes; a file that is UTF-8 but for a few bytes is read as
  UTF-8 with those bytes kept as lone surrogates (``surrogateescape``), so the rows holding
  them are refused with their place instead of the whole file turning into mojibake; a file
  with no UTF-8 in it is Windows-1252 when that reads as Western text (Excel and Outlook on
  Windows), else what charset-normalizer finds when exactly one plausible reading exists.
  Anything else is refused with `EncodingProblem` naming the question (never stored as
  mojibake).
- Text to stored values (`sanitise`), the documented rules:
  * a NUL (raw, or decoded from quoted-printable ``=00``) or an undecodable byte anywhere in a
    row refuses the row;
  * in one-line fields (names, company, emails, phones, labels, tags, UID, address parts but
    the street) control characters other than breaks and tabs (C0, DEL, C1), bidi
    embeddings, overrides, isolates and marks, zero-width spaces, word joiners, soft hyphens
    and byte order marks are removed (ZWJ and ZWNJ stay: emoji and Persian or Indic names
    need them); then each run of line breaks and tabs, with the spaces around it, becomes one
    space (so a name cannot forge a second line of output);
  * notes and the street keep line breaks and tabs as they are; other C0/C1 controls and DEL
    are removed;
  * an email over 254 characters, a phone with more than 15 digits or with letters (a
    "tel:" prefix and an extension such as "ext. 12" or "x12" apart), a date with a year
    outside 1800..2200, and a customer-since date after today are problems of the row.
- Messages (`printable`): text from a file echoed in a problem has its control characters and
  undecodable bytes escaped, so a terminal never receives them raw.
"""

from __future__ import annotations

import codecs
import logging
import os
import re
import unicodedata
from collections.abc import Iterable
from datetime import date
from typing import Final

from crmcompanion.core.customer_values import CustomerValues
from crmcompanion.core.errors import DomainError

logger = logging.getLogger(__name__)

UTF8_WITH_ERRORS: Final = "utf-8 (some bytes invalid)"
"""`detect_encoding`'s name for a UTF-8 file holding a few invalid bytes (see `codec_of`)."""

MAX_EMAIL_LENGTH: Final = 254  # RFC 5321's limit on a forward path
MAX_PHONE_DIGITS: Final = 15  # ITU-T E.164
FIRST_YEAR: Final = 1800
LAST_YEAR: Final = 2200

_CHUNK: Final = 1 << 20
# Non-ASCII characters a reading needs before charset-normalizer's word is taken: "山田"
# alone reads as Korean or Chinese just as well.
_ENOUGH_TO_TELL: Final = 8
_LEGACY_SAMPLE: Final = 256 << 10  # bytes charset-normalizer looks at


class EncodingProblem(DomainError):
    """The file's encoding cannot be told safely; the message says what to do."""


# --- bytes to text ---------------------------------------------------------------------------


def codec_of(encoding: str) -> tuple[str, str]:
    """(codec, errors) to open a file `detect_encoding` named."""
    if encoding == UTF8_WITH_ERRORS:
        return "utf-8", "surrogateescape"
    return encoding, "strict"


def bom_encoding(head: bytes) -> str | None:
    """The encoding a BOM (or UTF-16's NUL bytes in ASCII text) proves, else None."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if len(head) >= 4 and head.count(b"\x00") * 4 >= len(head) and head.count(b"\x00") * 3 \
            <= len(head) * 2:
        # ASCII text in UTF-16 without a BOM: every other byte is NUL.
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > even * 4:
            return "utf-16-le"
        if even > odd * 4:
            return "utf-16-be"
    return None


def _utf8_counts(chunks: Iterable[bytes]) -> tuple[int, int, int]:
    """(characters decoded from several UTF-8 bytes, invalid bytes, line of the first)."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    valid = invalid = 0
    first_line = 0
    lines = 1
    for chunk in chunks:
        text = decoder.decode(chunk)
        bad = _SURROGATES.findall(text)
        if bad and not first_line:
            first_line = lines + text.count("\n", 0, _SURROGATES.search(text).start())  # type: ignore[union-attr]
        invalid += len(bad)
        valid += len(text) - len(text.encode("ascii", "ignore")) - len(bad)
        lines += text.count("\n")
    text = decoder.decode(b"", final=True)
    invalid += len(_SURROGATES.findall(text))
    return valid, invalid, first_line


def _chunks(path: str | os.PathLike[str]) -> Iterable[bytes]:
    with open(path, "rb") as raw:
        while chunk := raw.read(_CHUNK):
            yield chunk


def detect_encoding(path: str | os.PathLike[str]) -> str:
    """The encoding to read a file with (a codec name, or UTF8_WITH_ERRORS).

    Raises EncodingProblem when it cannot be told safely.
    """
    with open(path, "rb") as raw:
        head = raw.read(4096)
        found = bom_encoding(head)
        if found:
            return found
        decoder = codecs.getincrementaldecoder("utf-8")()
        chunk = head
        try:
            while chunk:
                decoder.decode(chunk)  # C speed: the common pure UTF-8 path stays cheap
                chunk = raw.read(_CHUNK)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
        raw.seek(0)
        sample = raw.read(_LEGACY_SAMPLE)
    valid, invalid, first_line = _utf8_counts(_chunks(path))
    return _utf8_or_legacy(valid, invalid, first_line, sample)


def _utf8_or_legacy(valid: int, invalid: int, first_line: int, sample: bytes) -> str:
    if valid and valid >= invalid:
        logger.info("UTF-8 file with %d invalid bytes (first on line %d): those rows are "
                    "refused", invalid, first_line)
        return UTF8_WITH_ERRORS
    return legacy_encoding(sample, first_line)


def decode_file(data: bytes) -> tuple[str, str]:
    """(text, encoding) of a whole file's bytes, by the rules of `detect_encoding`; invalid
    bytes of a mostly UTF-8 file stay as lone surrogates. Raises EncodingProblem."""
    found = bom_encoding(data[:4096])
    if found:
        text = data.decode(found, errors="surrogateescape" if found == "utf-8-sig"
                           else "replace")
        return text.lstrip("\ufeff"), found
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    valid, invalid, first_line = _utf8_counts([data])
    encoding = _utf8_or_legacy(valid, invalid, first_line, data[:_LEGACY_SAMPLE])
    codec, errors = codec_of(encoding)
    try:
        return data.decode(codec, errors=errors), encoding
    except UnicodeDecodeError as exc:
        raise EncodingProblem(_encoding_question(first_line, f"it is not valid {encoding} "
                                                 "either")) from exc


def _encoding_question(line: int, detail: str) -> str:
    where = f" (the first byte that is not UTF-8 is on line {line})" if line else ""
    return (f"cannot tell the file's text encoding: it is not UTF-8{where} and {detail}. "
            "Save it as UTF-8 (in Excel: “CSV UTF-8”) and import it again.")


# Symbols a Western Windows-1252 text really holds beside letters.
_WESTERN_SYMBOLS: Final = frozenset("€£¥§°©®«»–—‘’‚“”„…·•×÷¡¿ªº²³µ¹\xa0")
_LETTER_RUN: Final = re.compile(r"[^\W\d_]+")


def _plausible(text: str, encoding: str) -> bool:
    """Does this reading of a file look like real text? Each non-ASCII character is a letter
    (or a common symbol); a word does not mix ASCII letters with another script; a Latin
    reading has no word with three non-ASCII letters in a row (Cyrillic or Greek read as
    Windows-1252); a Korean reading keeps to the common syllables (EUC-KR), which Japanese
    read as Korean does not."""
    if any(ch >= "\x80" and not ch.isalpha() and ch not in _WESTERN_SYMBOLS
           and unicodedata.category(ch) not in ("Zs", "Mn") for ch in text):
        return False
    for word in _LETTER_RUN.findall(text):
        if word.isascii():
            continue
        scripts = {_script(ch) for ch in word}
        if "LATIN" in scripts and len(scripts) > 1:
            return False
        if scripts == {"LATIN"} and (re.search(r"[^\x00-\x7f]{3}", word) or (len(word) > 1
                                     and not any(ch.isascii() for ch in word))):
            return False  # "Äìèòðèé", "Íõ": Cyrillic or Chinese bytes read as Latin
        if any("\uff61" <= ch <= "\uff9f" for ch in word):
            return False  # half-width katakana: what Cyrillic bytes read as Shift-JIS give
    return _common_characters(text, encoding.replace("_", "").replace("-", "").lower())


def _common_characters(text: str, encoding: str) -> bool:
    """A Korean or Chinese reading keeps to the characters people write (KS X 1001, GB 2312,
    Big5's frequent block). Bytes of another East Asian encoding read as one of these land
    in the rare extensions: Shift-JIS read as Korean gives syllables no one uses."""
    common = _COMMON_BLOCKS.get(encoding)
    if common is None:
        return True
    codec, first_lead = common
    for ch in set(text):
        if ch < "\x80":
            continue
        try:
            data = ch.encode(codec)
        except UnicodeEncodeError:
            return False
        if data[0] < first_lead or min(data) < 0xA1:
            return False
    return True


# encoding -> (codec, lowest lead byte) of the characters in everyday use.
_COMMON_BLOCKS: Final = {
    "cp949": ("cp949", 0xA1), "uhc": ("cp949", 0xA1), "euckr": ("cp949", 0xA1),
    "gb18030": ("gb18030", 0xA1), "gbk": ("gb18030", 0xA1), "gb2312": ("gb18030", 0xA1),
    "big5": ("cp950", 0xA4), "big5hkscs": ("cp950", 0xA4), "cp950": ("cp950", 0xA4),
}


def _script(ch: str) -> str:
    if ch.isascii():
        return "LATIN"
    name = unicodedata.name(ch, "")
    first = name.split(" ", 1)[0]
    if first in ("CJK", "HIRAGANA", "KATAKANA", "HALFWIDTH", "FULLWIDTH", "IDEOGRAPHIC"):
        return "CJK"
    return first


def legacy_encoding(sample: bytes, first_line: int = 0) -> str:
    """The encoding of a file with no UTF-8 in it: Windows-1252 when that reads as Western
    text, else the one plausible reading charset-normalizer offers; EncodingProblem when
    there is none or several differ."""
    western = sample.decode("cp1252", errors="replace")
    if "\ufffd" not in western and _plausible(western, "cp1252"):
        return "cp1252"
    from charset_normalizer import from_bytes  # imported only for such files

    readings: dict[str, str] = {}
    for match in from_bytes(sample):
        text = str(match)
        if match.encoding in ("ascii", "utf_8") or text in readings.values():
            continue
        if _plausible(text, match.encoding):
            readings[match.encoding] = text
    if len(readings) == 1 and _non_ascii(next(iter(readings.values()))) >= _ENOUGH_TO_TELL:
        encoding = next(iter(readings))
        logger.info("Reading a file as %s (charset-normalizer)", encoding)
        return encoding
    if len(readings) > 1:
        names = ", ".join(sorted(readings)[:4])
        raise EncodingProblem(_encoding_question(
            first_line, f"it reads as text in several encodings ({names})"))
    if readings:
        raise EncodingProblem(_encoding_question(
            first_line, f"too little of it is not ASCII to be sure it is {next(iter(readings))}"))
    raise EncodingProblem(_encoding_question(first_line, "no known encoding reads it as text"))


def _non_ascii(text: str) -> int:
    return len(text) - len(text.encode("ascii", "ignore"))


# --- text to stored values ---------------------------------------------------------------------

_SURROGATES: Final = re.compile("[\udc80-\udcff]")
# Line breaks and tabs: one space in a one-line field.
_BREAKS: Final = re.compile("[ ]*(?:[\t\n\r\v\f\x1c-\x1f\x85\u2028\u2029][ ]*)+")
_INVISIBLE: Final = (
    "\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f"  # C0 and C1 controls, DEL (breaks apart)
    "\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
    "\ufff9-\ufffb"
)
_DROP_ONE_LINE: Final = re.compile(f"[{_INVISIBLE}]+")
_DROP_MULTI_LINE: Final = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]+")
_TEL_URI: Final = re.compile(r"^\s*tel:", re.IGNORECASE)  # RFC 3966, as vCards write them
_EXTENSION: Final = re.compile(r"\s*(?:ext\.?|x|#)\s*\d{1,6}\s*$", re.IGNORECASE)

Problem = tuple[str, str]  # (field, reason)
# Characters a message escapes: controls, format characters (bidi, zero-width), undecodable
# bytes (lone surrogates), line and paragraph separators. Other spaces (NBSP) stay.
_UNSAFE_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def printable(text: str, limit: int = 200) -> str:
    """`text` for a message: control characters, invisible format characters and undecodable
    bytes escaped (``\\x1b``, ``\\u202e``), cut to `limit` characters."""
    if text.isprintable():
        return text if len(text) <= limit else text[:limit] + "…"
    out = []
    for ch in text[:limit]:
        if ch.isprintable() or unicodedata.category(ch) not in _UNSAFE_CATEGORIES:
            out.append(ch)
        elif "\udc80" <= ch <= "\udcff":
            out.append(f"\\x{ord(ch) - 0xdc00:02x}")
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out) + ("…" if len(text) > limit else "")


def _byte_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL byte"
    found = _SURROGATES.search(text)
    if found:
        return f"holds the byte 0x{ord(found.group()) - 0xdc00:02X}, which is not UTF-8"
    return None


def one_line(text: str) -> str:
    """A one-line field as stored: invisible controls removed, then each run of breaks and
    tabs (with the spaces around it) one space (NUL and undecodable bytes are the caller's
    problem: see `sanitise`)."""
    if text.isprintable():
        return text
    return _BREAKS.sub(" ", _DROP_ONE_LINE.sub("", text))


def multi_line(text: str) -> str:
    """Notes and the street as stored: line breaks (LF, CRLF, CR) and tabs kept as they are
    (an export gives them back), other controls removed."""
    if text.isprintable():
        return text
    return _DROP_MULTI_LINE.sub("", text)


def phone_problem(number: str) -> str | None:
    """Why a typed phone number cannot be stored, or None."""
    body = _EXTENSION.sub("", _TEL_URI.sub("", number))
    if any(ch.isalpha() for ch in body):
        return f"“{printable(number, 40)}” is not a phone number (it has letters)"
    count = sum(ch.isdecimal() for ch in body)
    if count > MAX_PHONE_DIGITS:
        return (f"“{printable(number, 40)}” has {count} digits; a phone number has at most "
                f"{MAX_PHONE_DIGITS}")
    return None


def _year_problem(year: int | None) -> str | None:
    if year is not None and not FIRST_YEAR <= year <= LAST_YEAR:
        return f"the year {year} is outside {FIRST_YEAR}..{LAST_YEAR}"
    return None


def _sanitised(v: CustomerValues) -> tuple[CustomerValues, list[Problem]]:
    """`sanitise` for a row holding a character that is not printable: refused (NUL, an
    undecodable byte) or cleaned field by field."""
    problems: list[Problem] = []
    for name, text in (("first_name", v.first_name), ("last_name", v.last_name),
                       ("display_name", v.display_name), ("company", v.company),
                       ("notes", v.notes), ("source_uid", v.source_uid),
                       *(("address", a) for a in v.address), *(("tags", t) for t in v.tags),
                       *(("emails", e[0]) for e in v.emails),
                       *(("phones", p[0]) for p in v.phones),
                       *(("special_dates", s[4]) for s in v.special_dates)):
        reason = _byte_problem(text)
        if reason is not None:
            problems.append((name, reason))
    if problems:
        return v, problems
    street, *rest = v.address
    return v._replace(
        first_name=one_line(v.first_name), last_name=one_line(v.last_name),
        display_name=one_line(v.display_name), company=one_line(v.company),
        notes=multi_line(v.notes), source_uid=one_line(v.source_uid),
        address=(multi_line(street), *(one_line(a) for a in rest)),
        tags=[one_line(t) for t in v.tags],
        emails=[(one_line(a), one_line(label)) for a, label in v.emails],
        phones=[(one_line(n), one_line(label)) for n, label in v.phones],
        special_dates=[(*s[:4], one_line(s[4])) for s in v.special_dates]), problems


def sanitise(v: CustomerValues, today: date) -> tuple[CustomerValues, list[Problem]]:
    """The values as the import stores them (the rules in the module docstring), and the
    problems that refuse the row ((field, reason) pairs; none: the values can be stored)."""
    problems: list[Problem] = []
    # Almost every row is printable as it is: checked field by field, the cheapest way.
    first, last, display, company, emails, phones, address, tags = v[:8]
    clean = first.isprintable() and last.isprintable() and display.isprintable() and \
        company.isprintable() and v.notes.isprintable() and v.source_uid.isprintable() and \
        "".join(address).isprintable() and (not tags or "".join(tags).isprintable())
    if clean:
        for a, label in emails:
            if not (a.isprintable() and label.isprintable()):
                clean = False
        for n, label in phones:
            if not (n.isprintable() and label.isprintable()):
                clean = False
        for special in v.special_dates:
            if not special[4].isprintable():
                clean = False
    if not clean:
        v, problems = _sanitised(v)
        if problems:
            return v, problems
        emails, phones = v.emails, v.phones
    for address_text, _ in emails:
        if len(address_text) > MAX_EMAIL_LENGTH and \
                len(address_text.strip()) > MAX_EMAIL_LENGTH:
            problems.append(("emails", f"an email address has at most {MAX_EMAIL_LENGTH} "
                             f"characters (this one has {len(address_text.strip()):,})"))
    for number, _ in phones:
        if number[:1] == "+" and number[1:].isdigit() and len(number) <= 16:
            continue  # E.164: the common case
        reason = phone_problem(number)
        if reason is not None:
            problems.append(("phones", reason))
    for special in v.special_dates:
        year = special[3]
        if year is None or FIRST_YEAR <= year <= LAST_YEAR:
            continue
        reason = _year_problem(year)
        if reason is not None:
            kind = str(special[0])
            problems.append((kind if kind in ("birthday", "wedding_anniversary")
                             else "special_dates", reason))
    since = v.customer_since
    if since is not None:
        reason = _year_problem(since.year)
        if reason is None and since > today:
            reason = f"customer since {since.isoformat()} is in the future"
        if reason is not None:
            problems.append(("customer_since", reason))
    return v, problems
