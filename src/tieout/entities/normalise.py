"""Natural-key normalisers of contract §4, the Python reference for the SQL macros of `sql.py`.

Each normaliser is written as a short pipeline of regular expressions that mean the same in Python's `re`
and DuckDB's RE2 (no look-arounds, no `$` where Python would also match before a final newline), and
`sql.py` builds its macros from the very same pattern strings. That is what keeps SQL == Python exact,
and `tests/entities/test_sql_parity.py` checks it with hypothesis.

    >>> tax_id(" 55 1234567 ")
    '551234567'
    >>> registrable_domain("https://billing.acme.co.uk/x")
    'acme.co.uk'
    >>> legal_name("Müller GmbH & Co. KG")
    'muller'
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import idna
from unidecode import unidecode

# --- tax id ---------------------------------------------------------------------------------------------

# ASCII letters and digits only: tax ids are ASCII, and an ASCII-only rule upper-cases the same in every
# engine (Python's "ß".upper() is "SS", DuckDB's is "ß").
TAX_ID_DROP = r"[^A-Za-z0-9]+"


def tax_id(s: str | None) -> str | None:
    """Upper-cased, only letters and digits kept; None when nothing is left."""
    if s is None:
        return None
    return re.sub(TAX_ID_DROP, "", s).upper() or None


# --- registrable domain ---------------------------------------------------------------------------------

# Trimmed around the value before anything else; only these ASCII characters, the same on both sides.
WHITESPACE = " \t\n\r\x0b\f"
# Host extraction, applied in order to the lower-cased value, each replacing its first match with "".
HOST_STEPS: tuple[str, ...] = (
    r"^(?:[a-z][a-z0-9+.-]*:)?//|^mailto:",  # scheme of a URL, or mailto:
    r"(?s)[/?#].*",  # path, query, fragment
    r"(?s)^.*@",  # e-mail local part or URL user info: keep what follows the last @
    r"(?s):.*",  # port
)
# What a host must look like after extraction (trailing root dots allowed, then trimmed).
HOST_SHAPE = r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.*"


@cache
def _extractor():  # type: ignore[no-untyped-def]
    import tldextract

    # suffix_list_urls=() and cache_dir=None: the bundled snapshot only, never a network fetch, never a
    # cache file written. Private-domain rules (github.io, blogspot.com) are off, in SQL too (see psl.py).
    return tldextract.TLDExtract(
        cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True, include_psl_private_domains=False
    )


@cache
def free_mail_domains() -> frozenset[str]:
    """The free-mail providers of `free_mail.txt` (package data)."""
    text = resources.files("tieout.entities").joinpath("free_mail.txt").read_text(encoding="utf-8")
    lines = (line.strip().lower() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def host(s: str | None) -> str | None:
    """The ASCII host of a bare domain, URL or e-mail address; None when there is none.

    Non-ASCII hosts are converted to their IDNA (punycode) form, so `müller.de` and `xn--mller-kva.de`
    are the same key.
    """
    if s is None:
        return None
    h = s.lower().strip(WHITESPACE)
    for pattern in HOST_STEPS:
        h = re.sub(pattern, "", h, count=1)
    if not h.isascii():
        try:
            h = idna.encode(h.rstrip("."), uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            return None
    if not re.fullmatch(HOST_SHAPE, h):
        return None
    return h.rstrip(".")


def registrable_domain(s: str | None) -> str | None:
    """The registrable domain (PSL, public rules only) of a domain, URL or e-mail; None for free mail.

    >>> registrable_domain("user@GMAIL.com") is None
    True
    """
    h = host(s)
    if h is None:
        return None
    result = _extractor().extract_str(h).top_domain_under_public_suffix
    if not result or result in free_mail_domains():
        return None
    return result


# --- legal name -----------------------------------------------------------------------------------------

# Trailing legal-form words. Dotted forms arrive with their dots turned to spaces ("L.L.C." -> "l l c").
LEGAL_FORMS: tuple[str, ...] = (
    "inc", "incorporated", "llc", "l l c", "ltd", "l t d", "limited", "gmbh", "g m b h", "mbh", "corp",
    "corporation", "co", "company", "cie", "sa", "s a", "sas", "s a s", "sarl", "s a r l", "ag", "a g",
    "kg", "k g", "kgaa", "ohg", "ug", "e k", "ek", "plc", "p l c", "bv", "b v", "nv", "n v", "srl", "s r l",
    "spa", "s p a", "sl", "s l", "oy", "oyj", "ab", "as", "a s", "asa", "aps", "kk", "k k", "pty", "pte",
    "pvt", "lp", "l p", "llp", "l l p", "ltda", "se", "bhd", "sdn",
)  # fmt: skip
_FORMS = "|".join(sorted((re.escape(f) for f in LEGAL_FORMS), key=len, reverse=True))
NAME_DROP = r"[^a-z0-9]+"  # after the ASCII fold and lower-casing: every other character is punctuation
# The name is only legal-form words: keep it whole rather than reduce it to nothing.
NAME_ALL_FORMS = rf"(?:{_FORMS})(?: (?:{_FORMS}))*"
# One or more trailing legal-form words; the leftmost match wins in both engines, so the result agrees.
NAME_TRAILING_FORMS = rf"(?: (?:{_FORMS}))+$"


def name_text(s: str) -> str:
    """ASCII-folded, lower-cased, punctuation to single spaces: the part of `legal_name` before the forms."""
    return re.sub(NAME_DROP, " ", unidecode(s).lower()).strip(" ")


def legal_name(s: str | None) -> str | None:
    """ASCII-folded, lower-cased, punctuation to spaces, trailing legal-form words removed."""
    if s is None:
        return None
    text = name_text(s)
    if not text:
        return None
    if re.fullmatch(NAME_ALL_FORMS, text):
        return text
    return re.sub(NAME_TRAILING_FORMS, "", text, count=1)
