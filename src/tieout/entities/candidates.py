"""The entities an unmapped or ambiguous source record may belong to, each with its evidence — which key matched,
and the values on both sides — and why one ranks above another, or that nothing tells them apart.

What a person needs before choosing "map to this entity": not a score, but "the billing e-mail
ap@northwind.co.uk has the domain northwind.co.uk, as the CRM account 0015… (Northwind Robotics Ltd) of C00012
and the CRM account 0016… (Northwind Foods PLC) of C00013". Evidence comes from one stored day
(`tieout.store.open_day`): the exact natural keys of contract §4 (tax id, registrable domain, legal name), matched
against the records that resolved that day, and the fuzzy proposals of `propose` (which only ever propose).

Candidates rank by their strongest evidence: a shared tax id, then a shared domain, then a shared legal name,
then the closest fuzzy score. `explain` says what puts the first above the second, or — a tie — that nothing in
the records does and a person must choose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from .normalise import legal_name, registrable_domain, tax_id
from .propose import References, propose, references
from .sql import ASCII, tax_id_sql

# The exact keys, strongest first (contract §4's order), as (kind, how a person reads it).
KEYS = (("tax_id", "tax id"), ("domain", "domain"), ("legal_name", "legal name"))

_RECORDS = """
SELECT 'crm' AS sys, account_id AS sid, legal_name AS name, domain AS dom, tax_id AS tax FROM crm_accounts
UNION ALL SELECT 'billing', customer_id, name, email, tax_id FROM billing_customers
UNION ALL SELECT 'ops', tenant_id, display_name, domain, NULL FROM ops_tenants
"""
_RAW_COLUMN = {("crm", "tax_id"): "tax_id", ("crm", "domain"): "domain", ("crm", "legal_name"): "legal_name",
               ("billing", "tax_id"): "tax_id", ("billing", "domain"): "email", ("billing", "legal_name"): "name",
               ("ops", "domain"): "domain", ("ops", "legal_name"): "display_name"}


@dataclass(frozen=True)
class Evidence:
    key: str  # tax_id | domain | legal_name (exact keys), or fuzzy:<what was compared>
    normalised: str  # the key both sides share (exact), or the two keys compared (fuzzy)
    ours: str  # this record's value, as its export holds it
    theirs: str  # the other record's value
    their_record: str  # "crm 0015…"
    score: float = 100.0

    @property
    def exact(self) -> bool:
        return not self.key.startswith("fuzzy")

    def describe(self) -> str:
        label = dict(KEYS).get(self.key) or self.key.removeprefix("fuzzy:").replace("~", " ~ ").replace("_", " ")
        if self.exact:
            return f"{label} {self.normalised!r}: ours {self.ours!r}, {self.their_record} {self.theirs!r}"
        return f"{label} similar (score {round(self.score)}): ours {self.ours!r}, {self.their_record} {self.theirs!r}"


@dataclass
class Candidate:
    canonical_id: str
    name: str | None  # the entity's legal name (its CRM account's, else its billing customer's)
    evidence: list[Evidence] = field(default_factory=list)

    def has(self, key: str) -> bool:
        return any(e.key == key for e in self.evidence)

    @property
    def best_score(self) -> float:
        return max((e.score for e in self.evidence if not e.exact), default=0.0)

    @property
    def strength(self) -> tuple[Any, ...]:
        return (*(self.has(k) for k, _ in KEYS), round(self.best_score, 1))

    def as_dict(self) -> dict[str, Any]:
        return {"canonical_id": self.canonical_id, "name": self.name,
                "evidence": [{**e.__dict__, "exact": e.exact, "described": e.describe()} for e in self.evidence]}


@dataclass(frozen=True)
class RecordCandidates:
    source_system: str
    source_id: str
    status: str | None  # resolved | ambiguous | unmapped; None: no such record that day
    values: dict[str, str | None]  # the record's own key values: name, domain (or e-mail), tax id
    candidates: list[Candidate]
    explanation: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"source_system": self.source_system, "source_id": self.source_id, "status": self.status,
                "values": self.values, "candidates": [c.as_dict() for c in self.candidates],
                "explanation": self.explanation}


def _keys(name: str | None, dom: str | None, tax: str | None, system: str) -> dict[str, str | None]:
    # Ops display names are workspace names, not legal names (contract §3): never an exact legal-name key.
    return {"tax_id": tax_id(tax), "domain": registrable_domain(dom),
            "legal_name": None if system == "ops" else legal_name(name)}


def could_share(ours: dict[str, str | None]) -> tuple[str, dict[str, str]]:
    """SQL over `_RECORDS` (as r) true for every record that may share one of the keys `ours` (`_keys`), and its
    parameters: a necessary condition, so that only those few records are keyed in Python, not a million.

    A tax id's key is plain SQL (`tax_id_sql`), compared exactly. For an ASCII value the host steps of
    `normalise.host` only cut a prefix or a suffix off the lower-cased value, and a registrable domain is the
    host's last labels: a value whose domain is ours holds it, lower-cased. A legal name's key is the name's
    ASCII words, lower-cased, some trailing forms dropped: a name whose key is ours holds its longest word,
    lower-cased. Non-ASCII values are folded in Python first, so they always may (`tests/entities/
    test_candidates_prefilter.py` checks the candidates against every resolved record keyed).
    """
    parts, params = [], {}
    if ours["tax_id"] is not None:
        parts.append(f"{tax_id_sql('r.tax')} = $tax")
        params["tax"] = ours["tax_id"]
    if ours["domain"] is not None:
        parts.append(f"NOT {ASCII.format('r.dom')} OR contains(lower(r.dom), $domain)")
        params["domain"] = ours["domain"]
    if ours["legal_name"] is not None:
        parts.append(f"r.sys <> 'ops' AND (NOT {ASCII.format('r.name')} OR contains(lower(r.name), $word))")
        params["word"] = max(ours["legal_name"].split(" "), key=len)
    return " OR ".join(f"({p})" for p in parts) or "false", params


def _names(con: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = con.execute(f"""
        SELECT s.canonical_id, r.sys, min(r.name)
        FROM ({_RECORDS}) r JOIN source_records s ON s.source_system = r.sys AND s.source_id = r.sid
        WHERE s.canonical_id IN (SELECT unnest($ids)) AND r.sys IN ('crm', 'billing') AND r.name IS NOT NULL
        GROUP BY ALL""", {"ids": ids}).fetchall()
    found: dict[str, dict[str, str]] = {}
    for cid, sys, name in rows:
        found.setdefault(cid, {})[sys] = name
    # An empty CRM name (a test world's; an export refuses a blank required name) gives way to billing's.
    return {cid: name for cid, by in found.items() if (name := by.get("crm") or by.get("billing"))}


def candidates_for(con: duckdb.DuckDBPyConnection, as_of: Any, system: str, source_id: str, *,
                   refs: References | None = None) -> RecordCandidates:
    """The candidates of one source record on the day whose tables `con` holds (`tieout.store.open_day`, at
    least `RECORD_TABLES`); `refs`: `propose.references(con)`, when the caller has them already."""
    found = con.execute(f"SELECT r.name, r.dom, r.tax, s.status FROM ({_RECORDS}) r LEFT JOIN source_records s "
                        "ON s.source_system = r.sys AND s.source_id = r.sid WHERE r.sys = $sys AND r.sid = $sid",
                        {"sys": system, "sid": source_id}).fetchall()
    if not found:
        return RecordCandidates(system, source_id, None, {}, [], None)
    name, dom, tax, status = found[0]
    values = {"name": name, "domain": dom, "tax_id": tax}
    ours = _keys(name, dom, tax, system)
    by_id: dict[str, Candidate] = {}
    # Exact keys: every resolved record (any system) that shares one with this record.
    could, params = could_share(ours)
    resolved = con.execute(f"SELECT r.sys, r.sid, r.name, r.dom, r.tax, s.canonical_id FROM ({_RECORDS}) r JOIN "
                           "source_records s ON s.source_system = r.sys AND s.source_id = r.sid "
                           f"WHERE s.status = 'resolved' AND ({could}) ORDER BY r.sys, r.sid", params).fetchall()
    raw = {"tax_id": tax, "domain": dom, "legal_name": name}
    for sys, sid, their_name, their_dom, their_tax, cid in resolved:
        theirs = _keys(their_name, their_dom, their_tax, sys)
        their_raw = {"tax_id": their_tax, "domain": their_dom, "legal_name": their_name}
        for key, _ in KEYS:
            shared = ours[key]
            if shared is not None and shared == theirs[key]:
                by_id.setdefault(cid, Candidate(cid, None)).evidence.append(
                    Evidence(key, shared, raw[key] or "", their_raw[key] or "", f"{sys} {sid}"))
    # Fuzzy: what `propose` offers for this record.
    for p in propose(con, as_of, limit_per_record=5, min_score=70, only=(system, source_id), refs=refs):
        cid = str(p["canonical_id"])
        note = str(p["notes"]).split(" on ", 1)[1]  # "legal_name: 'a' ~ 'b'"
        compared, _, pair = note.partition(": ")
        left, _, right = pair.partition(" ~ ")
        by_id.setdefault(cid, Candidate(cid, None)).evidence.append(
            Evidence(f"fuzzy:{compared}", pair, left.strip("'"), right.strip("'"), "the closest resolved record",
                     float(p["score"])))  # type: ignore[arg-type]
    names = _names(con, sorted(by_id))
    ranked = sorted(by_id.values(), key=lambda c: tuple(-int(v) if isinstance(v, bool) else -v
                                                        for v in c.strength) + (c.canonical_id,))
    for c in ranked:
        c.name = names.get(c.canonical_id)
    return RecordCandidates(system, source_id, status, values, ranked, explain(ranked))


def explain(ranked: list[Candidate]) -> str | None:
    """Why the first candidate ranks above the second — or, when they tie, that nothing in the records tells
    them apart and a person must choose. None with fewer than two candidates."""
    if len(ranked) < 2:
        return None
    first, second = ranked[0], ranked[1]
    if first.strength == second.strength:
        tied = [c.canonical_id for c in ranked if c.strength == first.strength]
        shared = [label for key, label in KEYS if first.has(key)]
        what = (f"each shares the {' and the '.join(shared)}" if shared else
                f"each scores {round(first.best_score)} on similarity")
        return (f"a tie: {', '.join(tied)} match equally ({what}); nothing in the records tells them apart — "
                "a person must choose, or map the record to a new entity")
    for key, label in KEYS:
        if first.has(key) != second.has(key):
            return (f"{first.canonical_id} ranks first: it shares the {label} with this record and "
                    f"{second.canonical_id} does not")
    return (f"{first.canonical_id} ranks first: its name is closer (score {round(first.best_score)} against "
            f"{round(second.best_score)} for {second.canonical_id})")


def explain_ties(con: duckdb.DuckDBPyConnection, as_of: Any, rows: list[dict[str, object]]) -> list[str]:
    """Fill `explanation` of the proposals (`propose`'s rows) of every record whose best two candidates score
    the same: what tells them apart, or that nothing does. Returns one line per such record."""
    by_record: dict[tuple[str, str], list[dict[str, object]]] = {}
    for r in rows:
        by_record.setdefault((str(r["source_system"]), str(r["source_id"])), []).append(r)
    lines = []
    refs: References | None = None
    for (system, source_id), proposed in by_record.items():
        scores = sorted((float(r["score"]) for r in proposed), reverse=True)  # type: ignore[arg-type]
        if len(scores) < 2 or scores[0] != scores[1]:
            continue
        refs = references(con) if refs is None else refs  # once for all the ties
        why = candidates_for(con, as_of, system, source_id, refs=refs).explanation or \
            "a tie: the candidates score the same and nothing tells them apart — a person must choose"
        for r in proposed:
            r["explanation"] = why
        lines.append(f"{system} {source_id}: {why}")
    return lines
