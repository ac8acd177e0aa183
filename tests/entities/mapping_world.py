"""A small project with records the resolver cannot place, for mapping from the page and `entities propose`:

- billing `cus_9` "Grünwald Robotics AG" (a free-mail address, no tax id): its legal-name key `grunwald robotics`
  is not the CRM's `gruenwald robotics` (GRUN) — unmapped, and proposed for GRUN;
- billing `cus_7` "Romashka LLC" and `cus_6` "Toyota KK": the CRM holds them as "ООО «Ромашка»" (ROMA) and
  "株式会社トヨタ" (TOYO) — unmapped, and proposed once the leading legal forms are dropped;
- billing `cus_8` "Shared Services Ltd", ap@shared-north.com: the domain of two CRM accounts (NORTH and SOUTH) —
  ambiguous, and nothing else tells them apart.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import HEALTHY_DAY, new_project

CRM = HEALTHY_DAY["crm_accounts.csv"] + (
    "A3,Gruenwald Robotics GmbH,gruenwald-robotics.de,DE811111111,ana,2026-01-20T23:00:00Z\n"
    "A4,Initech North LLC,shared-north.com,11-1111111,ana,2026-01-20T23:00:00Z\n"
    "A5,Initech South LLC,shared-north.com,22-2222222,ana,2026-01-20T23:00:00Z\n"
    'A6,ООО «Ромашка»,romashka.ru,7700000001,ana,2026-01-20T23:00:00Z\n'
    "A7,株式会社トヨタ,toyota.co.jp,JP000001,ana,2026-01-20T23:00:00Z\n"
)
BILLING = HEALTHY_DAY["billing_customers.csv"] + (
    "cus_9,Grünwald Robotics AG,einkauf.gruenwald@gmail.com,,2026-01-20T23:00:00Z\n"
    "cus_8,Shared Services Ltd,ap@shared-north.com,,2026-01-20T23:00:00Z\n"
    "cus_7,Romashka LLC,,,2026-01-20T23:00:00Z\n"
    "cus_6,Toyota KK,,,2026-01-20T23:00:00Z\n"
)
INVOICES = HEALTHY_DAY["billing_invoices.csv"] + (
    "in_9,cus_9,2026-01-01,2026-01-31,2026-01-01,open,500.00,USD,3,2026-01-20T23:00:00Z\n"
)
MAP_ROWS = (
    "GRUN,crm,A3,2025-01-01,,\n"
    "NORTH,crm,A4,2025-01-01,,\n"
    'SOUTH,crm,A5,2025-01-01,,"kept as written: ""quoted"", with a comma"\n'
    "ROMA,crm,A6,2025-01-01,,\n"
    "TOYO,crm,A7,2025-01-01,,\n"
)
DAY = {"crm_accounts.csv": CRM, "billing_customers.csv": BILLING, "billing_invoices.csv": INVOICES}


def mapping_project(root: Path, *days: str, yml: str = "") -> Path:
    """The project at `root` with `days` (default 2026-01-20 and 2026-01-21) of exports, none reconciled."""
    project = new_project(root, {d: DAY for d in days or ("2026-01-20", "2026-01-21")}, yml=yml)
    with (project / "entity_map.csv").open("a", encoding="utf-8") as f:
        f.write(MAP_ROWS)
    return project
