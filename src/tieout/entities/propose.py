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
from .sql import ASCII, install_normalisers, natural_keys

PROPOSAL_COLUMNS = (*COLUMNS, "score", "matched_on", "explanation")
# What proposals are matched against (`references`): name keys and domain labels, each with its canonical ids.
References = tuple[dict[str, set[str]], dict[str, set[str]]]

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


def _sorted_words(key: str) -> str:
    """A key's words in sorted order, as `fuzz.token_sort_ratio` compares them (a key's words are split by single
    spaces: `legal_name`)."""
    return " ".join(sorted(key.split()))


def _domain_label(value: str | None) -> str | None:
    reg = registrable_domain(value)
    if reg:
        return reg.split(".")[0]
    h = host(value)
    if h and "." in h and registrable_domain(h) is None and h.split(".")[-2]:
        return h.split(".")[-2]
    return None


def propose(
    con: duckdb.DuckDBPyConnection, as_of: date, *, limit_per_record: int = 3, min_score: float = 80,
    only: tuple[str, str] | None = None, refs: References | None = None,
) -> list[dict[str, object]]:
    """Candidate map rows (dicts keyed by PROPOSAL_COLUMNS) for the unmapped and ambiguous records; `only`: for
    that record (system, source id) alone, if it is one of them; `refs`: `references(con)`, when the caller
    has them already."""
    if not 0 <= min_score <= 100:
        raise ValueError(f"min_score must be between 0 and 100, not {min_score}")
    open_rows = con.execute(f"""
        SELECT r.sys, r.sid, r.name, r.display, r.dom
        FROM ({_RAW}) r JOIN source_records s ON s.source_system = r.sys AND s.source_id = r.sid
        WHERE s.status IN ('unmapped', 'ambiguous') AND ($only IS NULL OR [r.sys, r.sid] = $only)
        ORDER BY r.sys, r.sid
    """, {"only": list(only) if only else None}).fetchall()
    if not open_rows:
        return []
    # Only proposals match fuzzily: every read of a stored day imports this package, never needs rapidfuzz.
    from rapidfuzz import fuzz, process

    names, labels = references(con) if refs is None else refs
    # The choices listed once, not for every record and query (a million keys each at a million companies).
    # `token_sort_ratio` is `ratio` over each side's words sorted: for more than one record the names' sorted
    # forms are made once, in the names' order, so that equal scores rank alike (`process.extract` ranks them by
    # position), and each record's query is a third as costly.
    name_keys, label_keys = list(names), list(labels)
    if len(open_rows) > 1:
        name_forms, name_scorer, name_query = [_sorted_words(k) for k in name_keys], fuzz.ratio, _sorted_words
    else:
        name_forms, name_scorer, name_query = name_keys, fuzz.token_sort_ratio, lambda key: key

    proposals: list[dict[str, object]] = []
    for sys, sid, name, display, dom in open_rows:
        best: dict[str, tuple[float, str]] = {}
        name_key, label = fuzzy_name(name), _domain_label(dom)
        queries = [
            (name_key, name_key and name_query(name_key), name_keys, name_forms, names, name_scorer, "legal_name"),
            (label, label, label_keys, label_keys, labels, fuzz.ratio, "domain"),
        ]
        if display:
            display_key = fuzzy_name(display)
            queries += [
                (display_key, display_key, name_keys, name_keys, names, fuzz.token_set_ratio,
                 "display_name~legal_name"),
                (display_key, display_key, label_keys, label_keys, labels, fuzz.token_set_ratio,
                 "display_name~domain"),
            ]
        for query, compared, keys, forms, ids, scorer, field in queries:
            if not query or not keys:
                continue
            for _, score, at in process.extract(
                compared, forms, scorer=scorer, limit=limit_per_record * 3, score_cutoff=min_score
            ):
                for cid in ids[keys[at]]:
                    if score > best.get(cid, (-1.0, ""))[0]:
                        best[cid] = (score, f"{field}: {query!r} ~ {keys[at]!r}")
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


# A value keyed in SQL: ASCII (bytes = characters) without a control character (an export refuses those but a
# tab); any other is keyed in Python.
_PLAIN = "(" + ASCII + " AND NOT regexp_matches({0}, '[\\x00-\\x1f]'))"
# `fuzzy_name`'s leading legal forms that are ASCII, followed by blanks (a plain value's only blank is a space).
_LEADING_ASCII = "^(?:" + "|".join(sorted((f for f in LEADING_FORMS if f.isascii()), key=len, reverse=True)) + ") +"


def references(con: duckdb.DuckDBPyConnection) -> References:
    """What proposals are matched against: each fuzzy name key (`fuzzy_name`) and domain label (`_domain_label`)
    of the resolved records, with the canonical ids of the records that carry it, in the order the records first
    carry it (by system and source id: `process.extract` keeps that order among equal scores).

    Plain values are keyed in SQL, the rest in Python: at a million companies keying every record in Python took
    ~35 s. In SQL a plain name loses a leading form with its blanks, then blanks and quotes around it, then takes
    the legal-name macro; an umlaut digraph after a letter is folded (`\\B`: after a letter or a digit, so a key
    with a digit before one is keyed in Python). `tests/entities/test_propose_references.py` checks both against
    Python alone.
    """
    install_normalisers(con)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE tieout_fz_resolved AS
        SELECT r.name, r.dom, s.canonical_id, row_number() OVER (ORDER BY r.sys, r.sid) AS pos
        FROM ({_RAW}) r JOIN source_records s ON s.source_system = r.sys AND s.source_id = r.sid
        WHERE s.status = 'resolved'
    """)
    stripped = f"""trim(regexp_replace(trim(v, ' '), '{_LEADING_ASCII}', ''), ' "''')"""
    name_key = f"tieout_legal_name(CASE WHEN {stripped} <> '' THEN {stripped} ELSE v END)"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE tieout_fz_name AS
        SELECT v, python, CASE WHEN NOT python THEN regexp_replace(key, '\\B([aou])e', '\\1', 'g') END AS key
        FROM (SELECT v, key, NOT plain OR coalesce(regexp_matches(key, '[0-9][aou]e'), false) AS python
              FROM (SELECT v, {_PLAIN.format('v')} AS plain,
                           CASE WHEN {_PLAIN.format('v')} THEN {name_key} END AS key
                    FROM (SELECT DISTINCT name AS v FROM tieout_fz_resolved WHERE name IS NOT NULL)))
    """)
    natural_keys(con, "tieout_fz_domain", "domain", "SELECT dom FROM tieout_fz_resolved")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE tieout_fz_label AS
        SELECT d.v, NOT d.plain AS python,
               CASE WHEN NOT d.plain THEN NULL WHEN g.key IS NOT NULL THEN split_part(g.key, '.', 1)
                    WHEN contains(d.h, '.') THEN split_part(d.h, '.', -2) END AS key
        FROM (SELECT v, {_PLAIN.format('v')} AS plain, tieout_host(v) AS h
              FROM (SELECT DISTINCT dom AS v FROM tieout_fz_resolved WHERE dom IS NOT NULL)) d
        LEFT JOIN tieout_fz_domain g ON g.v = d.v
    """)
    out: list[dict[str, set[str]]] = []
    for table, column, keyer in (("tieout_fz_name", "name", fuzzy_name), ("tieout_fz_label", "dom", _domain_label)):
        others = [v for (v,) in con.execute(f"SELECT v FROM {table} WHERE python ORDER BY v").fetchall()]
        con.execute(f"UPDATE {table} SET key = k.key FROM (SELECT unnest($v) AS v, unnest($k) AS key) k "
                    f"WHERE {table}.v = k.v", {"v": others, "k": [keyer(v) for v in others]})
        rows = con.execute(f"""
            SELECT k.key, list(DISTINCT r.canonical_id) FROM tieout_fz_resolved r JOIN {table} k ON k.v = r.{column}
            WHERE k.key IS NOT NULL GROUP BY k.key ORDER BY min(r.pos)
        """).fetchall()
        out.append({key: set(ids) for key, ids in rows})
    for table in ("tieout_fz_resolved", "tieout_fz_name", "tieout_fz_domain", "tieout_fz_label"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return out[0], out[1]


def write_proposals(rows: Iterable[dict[str, object]], path: Path | str) -> None:
    """Write proposals as CSV: entity_map.csv's six columns first (copy-pasteable), then score, matched_on.
    Text is neutralised against formula injection like every CSV tieout writes (`tieout.output.write_csv`):
    an id that starts with `=` is written `'=…` — drop the `'` when copying such a row into entity_map.csv."""
    with Path(path).open("w", encoding="utf-8", newline="") as f:
        write_csv(f, rows, PROPOSAL_COLUMNS)
