"""Registries used across the ownership tests."""

from __future__ import annotations

from pathlib import Path

STATUS_REGISTRY = """
fields:
  legal_name:
    kind: name
    held_in: {crm: accounts.legal_name, billing: customers.name}
    owner: crm
  customer_status:
    kind: status
    held_in: {crm: contracts.status, billing: invoices.status}
    owner: crm
    after:
      - {when: first_invoice_posted, owner: billing, approver: finance}
    statuses:
      crm: {active: live, cancelled: ended, expired: ended, draft: pending}
      billing: {open: live, paid: live, uncollectible: live, void: ended}
"""


def with_registry(project: Path, text: str) -> Path:
    (project / "ownership.yml").write_text(text)
    return project
