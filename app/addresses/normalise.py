"""Address rules with no database: postal codes, unit designators, floors, match keys.

One place decides when two spellings are the same place, so the form, the spreadsheet import
and the duplicate check agree:

    normalise_unit("Apt 4B") == normalise_unit("#4b") == normalise_unit("Unit 4-B") == "4B"
    normalise_postal_code("k1a0b1", "CA") == "K1A 0B1"
"""

from __future__ import annotations

import re

from app.core.errors import ValidationError

COUNTRY_NAMES = {
    "us": "US", "usa": "US", "u.s.": "US", "u.s.a.": "US", "united states": "US",
    "united states of america": "US", "america": "US",
    "ca": "CA", "can": "CA", "canada": "CA",
    "uk": "GB", "united kingdom": "GB", "great britain": "GB", "gb": "GB",
    "mexico": "MX", "méxico": "MX", "ireland": "IE", "australia": "AU", "new zealand": "NZ",
    "germany": "DE", "france": "FR", "netherlands": "NL", "spain": "ES", "italy": "IT",
}

_US_ZIP = re.compile(r"^(\d{5})(?:[\s-]?(\d{4}))?$")
# Canadian codes never use D F I O Q U, and W or Z never lead.
_CA_POSTAL = re.compile(r"^([ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z])\s*-?\s*(\d[ABCEGHJ-NPRSTV-Z]\d)$")

# Words that only say "this is a unit": Apt 4B, Suite 210, #12, Unit No. 3 …
_DESIGNATOR = re.compile(
    r"^(?:apartment|apt|appt|unit|suite|ste|flat|room|rm|no|number|num|#)\b\.?\s*(?:no\b\.?|#)?\s*",
    re.IGNORECASE,
)
# Spelled-out street types, so "12 Main Street" and "12 main st." are the same street.
_STREET_WORDS = {
    "street": "st", "str": "st", "avenue": "ave", "av": "ave", "road": "rd", "boulevard": "blvd",
    "drive": "dr", "lane": "ln", "court": "ct", "place": "pl", "terrace": "ter", "crescent": "cres",
    "highway": "hwy", "parkway": "pkwy", "square": "sq", "circle": "cir", "trail": "trl",
    "north": "n", "south": "s", "east": "e", "west": "w", "northeast": "ne", "northwest": "nw",
    "southeast": "se", "southwest": "sw", "saint": "st", "mount": "mt",
}


def normalise_country(value: str) -> str:
    """An ISO 3166 two-letter code from a code or a common name; '' stays '' (the default applies)."""
    raw = " ".join(value.split()).strip()
    if not raw:
        return ""
    known = COUNTRY_NAMES.get(raw.lower())
    if known:
        return known
    if re.fullmatch(r"[A-Za-z]{2}", raw):
        return raw.upper()
    raise ValidationError(f"'{raw}' is not a country; use a two-letter code such as US or CA.", "country")


def normalise_postal_code(value: str, country: str) -> str:
    """US ZIP and ZIP+4, Canadian postal codes: checked and written the standard way. Elsewhere
    the code is free-form (trimmed, upper-cased)."""
    raw = " ".join(value.split()).strip().upper()
    if not raw:
        return ""
    if country == "US":
        m = _US_ZIP.match(raw)
        if not m:
            raise ValidationError(f"'{value.strip()}' is not a US ZIP code (12345 or 12345-6789).", "postal_code")
        return f"{m.group(1)}-{m.group(2)}" if m.group(2) else m.group(1)
    if country == "CA":
        m = _CA_POSTAL.match(raw)
        if not m:
            raise ValidationError(f"'{value.strip()}' is not a Canadian postal code (A1A 1A1).", "postal_code")
        return f"{m.group(1)} {m.group(2)}"
    if len(raw) > 20:
        raise ValidationError("A postal code has at most 20 characters.", "postal_code")
    return raw


def normalise_unit(value: str) -> str:
    """The unit designator as one canonical token: 'Apt 4B', '#4b', 'Unit 4-B' and '4B' → '4B'.

    Designator words and '#' go; separators between a number and a letter go; separators between
    two numbers stay ('12-3' is not '123'). '' means the building itself."""
    raw = " ".join(value.split()).strip()
    previous = None
    while raw and raw != previous:  # "Apt #4", "Unit No. 4"
        previous = raw
        raw = _DESIGNATOR.sub("", raw).strip()
    raw = raw.upper()
    raw = re.sub(r"(?<=[0-9])[\s.\-]+(?=[A-Z])|(?<=[A-Z])[\s.\-]+(?=[0-9])", "", raw)
    raw = re.sub(r"(?<=[A-Z])[\s.\-]+(?=[A-Z])", "", raw)
    raw = re.sub(r"\s+", " ", raw)
    if len(raw) > 20:
        raise ValidationError("A unit is at most 20 characters.", "unit")
    if raw and not re.fullmatch(r"[A-Z0-9][A-Z0-9 \-/]*", raw):
        raise ValidationError(f"'{value.strip()}' is not a unit number.", "unit")
    return raw


def derive_floor(unit: str) -> int | None:
    """The floor a unit number implies, when it clearly implies one: 4B → 4, 1203 → 12, 207 → 2,
    PH2 → None, 12 → None (a two-digit number alone could be anything)."""
    m = re.fullmatch(r"(\d{1,2})[A-Z]{1,2}", unit)
    if m:
        return int(m.group(1))
    m = re.fullmatch(r"(\d{1,3})(\d{2})[A-Z]?", unit)
    if m:
        return int(m.group(1))
    return None


def street_key(street: str) -> str:
    words = re.sub(r"[^\w\s]", " ", street.lower()).split()
    return " ".join(_STREET_WORDS.get(w, w) for w in words)


def match_key(country: str, street: str, city: str, unit: str) -> str:
    """What makes an address unique: the same street and city in the same country, and the same
    unit (already normalised). The postal code is left out on purpose: a typo there must not
    make a second copy of a unit."""
    city_key = " ".join(re.sub(r"[^\w\s]", " ", city.lower()).split())
    return f"{country.upper()}|{street_key(street)}|{city_key}|{unit}"


def address_search_text(building: str, street: str, unit: str, city: str, postal_code: str) -> str:
    """What address search-as-you-type scans: the words of the place, lower-cased."""
    return " ".join(x for x in (building, street, unit, city, postal_code) if x).lower()


def clean_text(value: str, label: str, field: str, limit: int, required: bool = False) -> str:
    text = " ".join(str(value).split())
    if required and not text:
        raise ValidationError(f"{label} is required.", field)
    if len(text) > limit:
        raise ValidationError(f"{label} has at most {limit} characters.", field)
    return text
