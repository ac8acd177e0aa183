"""Links from a record to the source system it came from: `links:` in tieout.yml, URL templates.

    links:
      crm: "https://example.my.salesforce.com/{source_id}"        # an account (the system's records)
      crm_contracts: "https://example.my.salesforce.com/{source_id}"  # a contract (a table's rows)
      billing: "https://dashboard.stripe.com/customers/{source_id}"

A key is a system (its records: accounts, customers, tenants) or a standard table (its rows, by their own id).
The id comes from an export, so it is untrusted: it is percent-encoded whole (`/`, `?`, `#`, `:` included)
before it goes into the template, and a template must be an http(s) URL whose host does not depend on the id —
no id can make a link `javascript:` or send it to another host.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from tieout.systems import BY_NAME, CATALOGUE

PLACEHOLDER = "{source_id}"
# The tables a template may be given for: every system's records and its rows (usage rows have no id of their own).
TABLES = tuple(t for s in CATALOGUE for t in (s.record_table, s.child_table) if t != "ops_usage")


def check_links(links: dict[str, str]) -> dict[str, str]:
    """`links` if every key names a system or a table and every template is a safe URL; else ValueError."""
    for key, template in links.items():
        if key not in BY_NAME and key not in TABLES:
            raise ValueError(f"{key!r} is neither a system ({', '.join(BY_NAME)}) nor a table with record ids "
                             f"({', '.join(TABLES)})")
        check_template(key, template)
    return links


def check_template(key: str, template: str) -> None:
    if PLACEHOLDER not in template:
        raise ValueError(f"{key}: {template!r} has no {PLACEHOLDER} (where the record's id goes)")
    rest = template.replace(PLACEHOLDER, "")
    if "{" in rest or "}" in rest:
        raise ValueError(f"{key}: {template!r}: {PLACEHOLDER} is the only placeholder a link may hold")
    one, other = urlsplit(template.replace(PLACEHOLDER, "a")), urlsplit(template.replace(PLACEHOLDER, "b"))
    if one.scheme.lower() not in ("http", "https") or not one.netloc:
        raise ValueError(f"{key}: {template!r} is not an http:// or https:// URL with a host")
    if one.netloc != other.netloc or one.scheme != other.scheme:
        raise ValueError(f"{key}: {template!r}: the record's id may not be part of the host")


def record_url(links: dict[str, str], system: str | None, table: str | None, source_id: object) -> str | None:
    """The link to record `source_id` of `table` (or of `system`'s records when `table` is None), or None when
    no template covers it. A system's template covers its record table only: its rows have ids of their own."""
    if source_id is None or source_id == "":
        return None
    template = links.get(table) if table else None
    record_system = BY_NAME.get(system or "")
    if template is None and record_system is not None and table in (None, record_system.record_table):
        template = links.get(record_system.name)
    if template is None:
        return None
    return template.replace(PLACEHOLDER, quote(str(source_id), safe=""))
