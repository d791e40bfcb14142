"""Phone numbers, email and postal addresses in one stored form, and shown as people write them.

Staff forms, CSV import, replies and call lists all go through these, so one number has
one blind index wherever it was typed.
"""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email


def normalise_phone(text: str, region: str = "GB") -> str:
    """E.164 form ("+447700900123"), the form the blind index is built from."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValueError(f"{text!r} is not a phone number (example: 07123 456789)") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{text!r} is not a valid phone number (example: 07123 456789)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_for_people(stored: str) -> str:
    """A stored number as people in the UK write and dial it ("07123 456789"); a foreign
    one in international form. Anything unreadable is shown as it is."""
    try:
        number = phonenumbers.parse(stored, "GB")
    except phonenumbers.NumberParseException:
        return stored
    style = phonenumbers.PhoneNumberFormat
    uk = number.country_code == 44
    return phonenumbers.format_number(number, style.NATIONAL if uk else style.INTERNATIONAL)


def normalise_email(text: str) -> str:
    try:
        result = validate_email(text.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"{text!r} is not a valid email address: {exc}") from None
    return result.normalized.lower()


def normalise_address(text: str) -> str:
    """One line per line of the address, blank lines dropped; ";" also ends a line (CSV)."""
    lines = [line.strip() for line in text.replace(";", "\n").splitlines() if line.strip()]
    if len(lines) < 2:
        raise ValueError("a postal address needs at least two lines (street and postcode)")
    return "\n".join(lines)


# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def guard_formula(cell: str) -> str:
    """A cell a spreadsheet would run as a formula (=, +, -, @) is kept as text."""
    return f"'{cell}" if cell.startswith(_FORMULA) else cell


def _unguard(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:2] in _FORMULA and cell[1:2] else cell
