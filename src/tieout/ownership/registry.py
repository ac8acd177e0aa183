"""The ownership registry's public face: load it, and the names other modules used before it was a file.

The registry itself is `model.py` (ownership.yml, validated), its vocabulary `catalogue.py` and its SQL
`sql.py`. Without an `ownership.yml` a project uses the contract §5 default: the CRM owns legal_name and
tax_id, and billing's `name` is its copy of the legal name.
"""

from __future__ import annotations

from tieout.ownership.catalogue import KINDS, VIEWS
from tieout.ownership.model import DEFAULT_REGISTRY, REGISTRY_FILE, OwnedField, Registry, load_registry

# kind -> SQL normaliser (a macro installed by tieout.entities.sql), %s is the value
NORMALISERS = {kind: sql for kind, (sql, _, _) in KINDS.items()}

# system -> (canonical record view, id column)
RECORD_VIEWS = {v.system: (v.name, v.record_id) for v in VIEWS.values() if not v.is_child}

__all__ = ["DEFAULT_REGISTRY", "NORMALISERS", "RECORD_VIEWS", "REGISTRY_FILE", "OwnedField", "Registry",
           "load_registry"]
