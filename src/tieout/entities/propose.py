"""Fuzzy proposals of map rows for records the resolver left unmapped or ambiguous. Never a resolution.

Run after `resolve`. Reference names come from the records resolved on the same day. Scorers, and why:

- legal names (CRM `legal_name`, billing `name`), compared normalised: `token_sort_ratio`. Word order
  varies ("Labs Globex"), but WRatio's partial matching would rate "Acme" 90 against any "Acme ..." —
  too generous for something a person is asked to accept.
- ops display names are workspace names ("acme-prod", "initech-hq"), so they are compared with
  `token_set_ratio` (a shared company word scores high despite the "prod"/"hq" noise) against both the
  legal names and the domain labels ("initech" of initech.co.uk) of resolved records.
- domains: the registrable domain's label ("acme" of acme.co.uk), or the host's last-but-one label when
  it has none (".example" test domains), against the same domain labels, with `ratio`.

Names are compared in `fuzzy_name`'s form, wider than the resolver's legal-name key because it only proposes:
the legal forms that lead a name in Japan and the former USSR (株式会社, ООО, …) are dropped as the trailing ones
are, Cyrillic and kana are transliterated to ASCII (unidecode), and German umlauts match both of their ASCII
spellings ("Grünwald", "Grunwald" and "Gruenwald" are one name).

Several entities scoring the same for one record is a tie: `tieout.entities.candidates.explain` says what tells
them apart (another key, a closer name), or that nothing does and a person must choose (the `explanation` column).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import duckdb

from tieout.output import write_csv

from .entity_map import COLUMNS
from .normalise import host, legal_name, registrable_domain

PROPOSAL_COLUMNS = (*COLUMNS, "score", "matched_on", "explanation")

# Legal forms written before the name (the former USSR; in Japan and Korea before or after it): dropped like the
# trailing ones, here only. The transliterated ones are matched in capitals only ("Too Good Foods" keeps "Too").
LEADING_FORMS = ("ООО", "ОАО", "ЗАО", "ПАО", "АО", "ИП", "ТОО", "OOO", "OAO", "ZAO", "PAO", "AO", "TOO")
CJK_FORMS = ("株式会社", "有限会社", "合同会社", "合資会社", "合名会社", "(株)", "（株）", "㈱", "주식회사")
_LEADING = re.compile("^(?:" + "|".join(re.escape(f) for f in sorted(LEADING_FORMS, key=len, reverse=True))
                      + r")\s+")
_CJK = "|".join(re.escape(f) for f in CJK_FORMS)
_CJK_FORM = re.compile(f"^\\s*(?:{_CJK})\\s*|\\s*(?:{_CJK})\\s*$")
_UMLAUT_DIGRAPHS = re.compile(r"(?<=[a-z])(ae|oe|ue)")


def fuzzy_name(name: str | None) -> str | None:
    """A name in the form proposals compare: leading legal forms dropped, then the legal-name key (folded to
    ASCII, trailing forms dropped), then German umlaut digraphs folded (`gruenwald` → `grunwald`, as `grünwald`
    folds). Fuzzy matching only; never a resolution key.

    >>> fuzzy_name("Grünwald Robotics AG") == fuzzy_name("Gruenwald Robotics GmbH") == "grunwald robotics"
    True
    >>> fuzzy_name("ООО Ромашка"), fuzzy_name("株式会社トヨタ")
    ('romashka', 'toyota')
    """
    if name is None:
        return None
    stripped = _CJK_FORM.sub("", _LEADING.sub("", name.strip(), count=1)).strip(" \"'«»「」")
    key = legal_name(stripped or name)
    return _UMLAUT_DIGRAPHS.sub(lambda m: m.group(1)[0], key) if key else key

_RAW = """
SELECT 'crm' AS sys, account_id AS sid, legal_name AS name, NULL AS display, domain AS dom FROM crm_accounts
UNION ALL SELECT 'billing', customer_id, name, NULL, email FROM billing_customers
UNION ALL SELECT 'ops', tenant_id, NULL, display_name, domain FROM ops_tenants
"""


def _domain_label(value: str | None) -> str | None:
    reg = registrable_domain(value)
    if reg:
        return reg.split(".")[0]
    h = host(value)
    if h and "." in h and registrable_domain(h) is None and h.split(".")[-2]:
        return h.split(".")[-2]
    return None


def propose(
    con: duckdb.DuckDBPyConnection, as_of: date, *, limit_per_record: int = 3, min_score: float = 80
) -> list[dict[str, object]]:
    """Candidate map rows (dicts keyed by PROPOSAL_COLUMNS) for the unmapped and ambiguous records."""
    if not 0 <= min_score <= 100:
        raise ValueError(f"min_score must be between 0 and 100, not {min_score}")
    rows = con.execute(f"""
        SELECT r.sys, r.sid, r.name, r.display, r.dom, s.status, s.canonical_id
        FROM ({_RAW}) r JOIN source_records s ON s.source_system = r.sys AND s.source_id = r.sid
        ORDER BY r.sys, r.sid
    """).fetchall()
    open_rows = [r for r in rows if r[5] in ("unmapped", "ambiguous")]
    if not open_rows:
        return []
    # Only proposals match fuzzily: every read of a stored day imports this package, never needs rapidfuzz.
    from rapidfuzz import fuzz, process

    # Reference choices: normalised key -> the canonical ids resolved records carry it for.
    names: dict[str, set[str]] = {}
    labels: dict[str, set[str]] = {}
    for _sys, _sid, name, _display, dom, status, cid in rows:
        if status != "resolved":
            continue
        if (key := fuzzy_name(name)) is not None:
            names.setdefault(key, set()).add(cid)
        if (label := _domain_label(dom)) is not None:
            labels.setdefault(label, set()).add(cid)

    proposals: list[dict[str, object]] = []
    for sys, sid, name, display, dom, _status, _cid in open_rows:
        best: dict[str, tuple[float, str]] = {}
        queries = [
            (fuzzy_name(name), names, fuzz.token_sort_ratio, "legal_name"),
            (_domain_label(dom), labels, fuzz.ratio, "domain"),
        ]
        if display:
            display_key = fuzzy_name(display)
            queries += [
                (display_key, names, fuzz.token_set_ratio, "display_name~legal_name"),
                (display_key, labels, fuzz.token_set_ratio, "display_name~domain"),
            ]
        for query, choices, scorer, field in queries:
            if not query or not choices:
                continue
            for choice, score, _ in process.extract(
                query, list(choices), scorer=scorer, limit=limit_per_record * 3, score_cutoff=min_score
            ):
                for cid in choices[choice]:
                    if score > best.get(cid, (-1.0, ""))[0]:
                        best[cid] = (score, f"{field}: {query!r} ~ {choice!r}")
        ranked = sorted(best.items(), key=lambda item: (-item[1][0], item[0]))[:limit_per_record]
        for cid, (score, matched) in ranked:
            field = matched.split(":", 1)[0]
            proposals.append(
                {
                    "canonical_id": cid,
                    "source_system": sys,
                    "source_id": sid,
                    "effective_from": as_of.isoformat(),
                    "effective_to": "",
                    "notes": f"proposed: score {round(score)} on {matched}",
                    "score": round(score, 1),
                    "matched_on": field,
                    "explanation": "",
                }
            )
    return proposals


def write_proposals(rows: Iterable[dict[str, object]], path: Path | str) -> None:
    """Write proposals as CSV: entity_map.csv's six columns first (copy-pasteable), then score, matched_on.
    Text is neutralised against formula injection like every CSV tieout writes (`tieout.output.write_csv`):
    an id that starts with `=` is written `'=…` — drop the `'` when copying such a row into entity_map.csv."""
    with Path(path).open("w", encoding="utf-8", newline="") as f:
        write_csv(f, rows, PROPOSAL_COLUMNS)
