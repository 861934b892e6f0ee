"""Identifier formats: check what was typed or scanned, and turn it into the form it is stored
and matched in.

Each identifier has two forms: ``value`` (shown, printed on labels) and ``lookup`` (matched).
A scan is turned into its candidate lookups with ``lookup_candidates``, so a MAC is found
whatever separators or case it was typed with.

- MAC: 12 hex digits, with ``:``, ``-``, ``.`` or spaces anywhere, any case. Shown as
  ``24:5A:4C:11:22:33``; matched as ``245A4C112233``.
- IMEI: 15 digits whose last is the Luhn check digit (spaces, dashes and slashes ignored).
- IMSI: 6 to 15 digits (a full IMSI has 15; MCC+MNC alone is 5–6).
- Serial and custom fields: printable text up to 64 characters, no spaces at the ends; a custom
  field (or a model's serial) may carry a regular expression its values must match in full.
  Matched upper-case.
"""

from __future__ import annotations

import re

from app.core.errors import ValidationError

MAC, SERIAL, IMSI, IMEI, CUSTOM = "mac", "serial", "imsi", "imei", "custom"
KINDS = (MAC, SERIAL, IMSI, IMEI, CUSTOM)
KIND_LABELS = {MAC: "MAC address", SERIAL: "Serial number", IMSI: "IMSI", IMEI: "IMEI", CUSTOM: "Custom"}
MAX_LENGTH = 64

_MAC_SEPARATORS = re.compile(r"[\s:\-.]")
_HEX12 = re.compile(r"[0-9A-F]{12}")
_DIGIT_SEPARATORS = re.compile(r"[\s\-/]")
_PRINTABLE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?")


def luhn_valid(digits: str) -> bool:
    """The Luhn check (IMEI's last digit, card numbers): True when ``digits`` passes."""
    if not _is_digits(digits):
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        n = int(char)
        if position % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def _mac_hex(text: str) -> str | None:
    hex12 = _MAC_SEPARATORS.sub("", text).upper()
    return hex12 if _HEX12.fullmatch(hex12) else None


def _is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _digits(text: str) -> str:
    return _DIGIT_SEPARATORS.sub("", text)


def normalise(kind: str, text: str, *, label: str = "", pattern: str = "") -> tuple[str, str]:
    """Check ``text`` as an identifier of ``kind``; return ``(value, lookup)``.

    Raises ValidationError with a message naming the field (``label``) and what is wrong."""
    name = label or KIND_LABELS.get(kind, kind)
    text = (text or "").strip()
    if not text:
        raise ValidationError(f"{name} is empty.")
    if kind == MAC:
        hex12 = _mac_hex(text)
        if hex12 is None:
            bare = _MAC_SEPARATORS.sub("", text)
            if re.fullmatch(r"[0-9A-Fa-f]*", bare):
                raise ValidationError(
                    f"{name} “{text}” has {len(bare)} hex digits; a MAC address has 12."
                )
            raise ValidationError(f"{name} “{text}” is not a MAC address: use 12 hex digits (0–9, A–F).")
        return ":".join(hex12[i:i + 2] for i in range(0, 12, 2)), hex12
    if kind == IMEI:
        digits = _digits(text)
        if not _is_digits(digits) or len(digits) != 15:
            raise ValidationError(f"{name} “{text}” must be 15 digits.")
        if not luhn_valid(digits):
            raise ValidationError(f"{name} “{text}” has a wrong check digit (the last digit).")
        return digits, digits
    if kind == IMSI:
        digits = _digits(text)
        if not _is_digits(digits) or not 6 <= len(digits) <= 15:
            raise ValidationError(f"{name} “{text}” must be 6 to 15 digits.")
        return digits, digits
    # Serial numbers and custom fields.
    if len(text) > MAX_LENGTH:
        raise ValidationError(f"{name} is longer than {MAX_LENGTH} characters.")
    if not _PRINTABLE.fullmatch(text):
        raise ValidationError(f"{name} “{text}” may only contain printable characters (no tabs or accents).")
    if pattern:
        try:
            matched = re.fullmatch(pattern, text)
        except re.error:
            matched = None
        if not matched:
            raise ValidationError(f"{name} “{text}” does not have this model's format ({pattern}).")
    return text, text.upper()


def check_pattern(pattern: str) -> None:
    """A model field's format is a regular expression: refuse one that does not compile."""
    if not pattern:
        return
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValidationError(f"The format “{pattern}” is not a valid regular expression: {exc}.", "pattern") from None


def lookup_candidates(code: str) -> list[str]:
    """Every lookup form a scanned or typed ``code`` may be stored under (most specific first)."""
    text = (code or "").strip()
    if not text:
        return []
    found: list[str] = []
    hex12 = _mac_hex(text)
    if hex12:
        found.append(hex12)
    digits = _digits(text)
    if _is_digits(digits) and digits not in found:
        found.append(digits)
    upper = text.upper()
    if upper not in found:
        found.append(upper)
    return found


def guess_kind(code: str) -> str:
    """Which identifier a code most likely is: mac, imei, imsi or serial."""
    text = (code or "").strip()
    # Twelve hex digits are a MAC unless they are all digits with nothing between them (a serial
    # number as likely).
    if _mac_hex(text) and not text.isdigit():
        return MAC
    digits = _digits(text)
    if _is_digits(digits):
        if len(digits) == 15 and luhn_valid(digits):
            return IMEI
        if len(digits) in (14, 15):
            return IMSI
    return SERIAL


def fits(kind: str, code: str, pattern: str = "") -> bool:
    """Whether ``code`` is a valid identifier of ``kind`` (no exception)."""
    try:
        normalise(kind, code, pattern=pattern)
    except ValidationError:
        return False
    return True
