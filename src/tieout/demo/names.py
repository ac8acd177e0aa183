"""Company identities for the demo world: legal names, domains, tax ids and their harmless variants.

Every identity is unique after the normalisation of contract §4 (tax id, registrable domain, legal name), so
that no two healthy companies can ever be confused by the resolver. The *variants* are the spellings the other
systems use for the same company; each one normalises back to the CRM's value, so none of them may raise an
OWNED_FIELD_MISMATCH or break a natural-key match.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass

PREFIXES = (
    "Northwind", "Acme", "Blue Harbor", "Crestline", "Evergreen", "Ironwood", "Silverline", "Redwood",
    "Brightwater", "Cobalt", "Summit", "Lakeshore", "Granite", "Pinecrest", "Stonebridge", "Falcon",
    "Meridian", "Orion", "Harbor Point", "Westfield", "Oakridge", "Sterling", "Riverbend", "Copperleaf",
    "Highgate", "Bluebird", "Kestrel", "Aurora", "Beacon", "Cedar Grove", "Driftwood", "Eastgate",
    "Foxglove", "Goldcrest", "Hawthorne", "Juniper", "Larkspur", "Maple Leaf", "Nimbus", "Obsidian",
    "Pioneer", "Quarry Hill", "Rosewood", "Saffron", "Tidewater", "Umbra", "Vantage", "Windmere",
    "Yellowstone", "Zephyr", "Alder", "Birchwood", "Clearwater", "Dunmore", "Elmstead", "Fairhaven",
)
# Prefixes that German companies may carry; the billing system often stores them folded to ASCII.
UMLAUT_PREFIXES = ("Müller", "Schöller", "Bärenfels", "Grünwald", "Königsberg", "Dürrenberg", "Löwenstein")
INDUSTRIES = (
    "Logistics", "Analytics", "Systems", "Foods", "Robotics", "Health", "Energy", "Media", "Labs", "Software",
    "Biotech", "Freight", "Textiles", "Aerospace", "Pharma", "Retail", "Networks", "Devices", "Materials",
    "Engineering", "Consulting", "Insurance", "Hospitality", "Publishing", "Semiconductors", "Marine",
    "Agritech", "Security", "Telecom", "Architecture", "Brewing", "Outfitters", "Instruments", "Mobility",
)
REPS = ("ana", "bo", "cy", "dana", "eli", "farah", "gus", "hana", "ivo", "jun", "kim", "lena", "mo", "nia")
AP_MAILBOXES = ("ap", "billing", "accounts.payable", "finance", "invoices")


@dataclass(frozen=True)
class Country:
    code: str
    forms: tuple[str, ...]  # legal-form suffixes, as written in the CRM
    tlds: tuple[str, ...]
    weight: int


COUNTRIES = (
    Country("US", ("Inc.", "LLC", "Corp."), ("com", "io"), 55),
    Country("GB", ("Ltd", "PLC"), ("co.uk",), 15),
    Country("DE", ("GmbH", "AG"), ("de",), 15),
    Country("NL", ("BV",), ("nl",), 8),
    Country("FR", ("SA",), ("fr",), 7),
)


@dataclass(frozen=True)
class Identity:
    legal_name: str
    domain: str
    tax_id: str
    country: str
    slug: str  # workspace-style short name, e.g. "northwind"


def fold(text: str) -> str:
    """ASCII-fold the way the contract's legal-name key does (ß has no decomposition, so spell it out)."""
    text = text.replace("ß", "ss")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", fold(text).lower())


def tax_id_for(country: str, rng: random.Random) -> str:
    digits = "".join(rng.choice("0123456789") for _ in range(11))
    if country == "US":
        return f"{digits[:2]}-{digits[2:9]}"  # EIN
    if country == "NL":
        return f"NL{digits[:9]}B01"
    if country == "FR":
        return f"FR{digits[:11]}"
    return f"{country}{digits[:9]}"


def tax_id_key(tax_id: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", tax_id.upper())


def tax_id_variant(tax_id: str, rng: random.Random) -> str:
    """The same tax id as another system would type it: spaces instead of dashes, no dash, lower case."""
    key = tax_id_key(tax_id)
    options = [key, key.lower(), f"{key[:2]} {key[2:]}"]
    if "-" not in tax_id and key[:2].isalpha():
        options.append(f"{key[:2]} {key[2:5]} {key[5:8]} {key[8:]}".strip())
    return rng.choice(options)


def name_variant(legal_name: str, rng: random.Random) -> str:
    """Billing's copy of the legal name, spelt differently but equal after normalisation."""
    base, _, form = legal_name.rpartition(" ")
    options = [legal_name, legal_name.upper(), f"{base}, {form}", base, fold(legal_name)]
    if form == "LLC":
        options.append(f"{base.upper()}, L.L.C.")
    return rng.choice(options)


class IdentityFactory:
    """Hands out identities whose name, domain and tax id keys are all unused so far."""

    def __init__(self, rng: random.Random, reserved: tuple[Identity, ...] = ()) -> None:
        self.rng = rng
        self.names: set[tuple[str, str]] = set()
        self.domains: set[str] = set()
        self.tax_ids: set[str] = set()
        for identity in reserved:
            self.claim(identity)

    def claim(self, identity: Identity) -> Identity:
        self.domains.add(identity.domain)
        self.tax_ids.add(tax_id_key(identity.tax_id))
        base = identity.legal_name.rpartition(" ")[0]
        self.names.add((slugify(base), ""))
        return identity

    def _country(self) -> Country:
        return self.rng.choices(COUNTRIES, weights=[c.weight for c in COUNTRIES])[0]

    def new(self, *, country: str | None = None, prefix: str | None = None) -> Identity:
        rng = self.rng
        for _ in range(10_000):
            c = next(x for x in COUNTRIES if x.code == country) if country else self._country()
            pre = prefix or (rng.choice(UMLAUT_PREFIXES) if c.code == "DE" and rng.random() < 0.3
                             else rng.choice(PREFIXES))
            industry = rng.choice(INDUSTRIES)
            base = f"{pre} {industry}"
            if (slugify(base), "") in self.names:
                continue
            joint = rng.choice(("", "-"))
            domain = f"{slugify(pre)}{joint}{slugify(industry)}.{rng.choice(c.tlds)}"
            tax_id = tax_id_for(c.code, rng)
            if domain in self.domains or tax_id_key(tax_id) in self.tax_ids:
                continue
            return self.claim(Identity(f"{base} {rng.choice(c.forms)}", domain, tax_id, c.code, slugify(pre)))
        raise RuntimeError("ran out of distinct company names")
