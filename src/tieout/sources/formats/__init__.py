"""Each vendor shape as data: default files, column maps, status maps and how the vendor writes each kind of
value — the way sqlglot keeps a dialect in one small class. `FORMATS` is every format a `sources:` entry may
name except `standard` (`tieout.sources.origin.StandardCsv`).

A column map's value is a `Conversion` (`tieout.sources.convert`), or a plain column name read the way the
format writes a value of the standard column's kind (`Format.kinds`: Stripe's money is minor units, its dates
unix seconds). `tables:` and `fields:` in tieout.yml override these defaults.

The classes and the registry are in `base`; importing this package imports every vendor's module, so that
`FORMATS` is complete.
"""

from __future__ import annotations

# One line per vendor: each module registers its Format.
from tieout.sources.formats import (
    chargebee,  # noqa: F401
    hubspot,  # noqa: F401
    salesforce,  # noqa: F401
    stripe,  # noqa: F401
    zuora,  # noqa: F401
)
from tieout.sources.formats.base import FORMATS, Format, Related, TableMap, register

__all__ = ["FORMATS", "Format", "Related", "TableMap", "register"]
