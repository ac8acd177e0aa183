"""Canonical entities (contract §4): the effective-dated map, natural-key normalisers, resolver, proposals."""

from __future__ import annotations

from .entity_map import load_entity_map
from .normalise import legal_name, registrable_domain, tax_id
from .propose import propose, write_proposals
from .resolver import resolve
from .sql import fold_non_ascii, install_normalisers, registrable_domains_sql

__all__ = [
    "fold_non_ascii",
    "install_normalisers",
    "legal_name",
    "load_entity_map",
    "propose",
    "registrable_domain",
    "registrable_domains_sql",
    "resolve",
    "tax_id",
    "write_proposals",
]
