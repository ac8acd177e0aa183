"""The Public Suffix List bundled with tldextract, as two small tables for the SQL registrable-domain lookup.

tldextract walks a trie of the rules from the right-most label; `sql.py` reproduces that walk as a
longest-suffix join, which needs, for every trie node reachable by real labels:

- `tieout_psl_node(suffix, is_rule, has_wildcard)`: every suffix of every rule ("kawasaki.jp", "jp"),
  whether it is itself a rule, and whether `*.suffix` is a rule;
- `tieout_psl_exception(suffix)`: the `!` rules without their `!` ("city.kawasaki.jp").

Only the public section is used (include_psl_private_domains=False, as in `normalise.py`). Rules with
non-ASCII labels are stored in their IDNA form: SQL only sees ASCII hosts, and tldextract decodes punycode
labels before matching, so the two meet.
"""

from __future__ import annotations

import pkgutil
from functools import cache

import idna


def _ascii(rule: str) -> str | None:
    labels = []
    for label in rule.split("."):
        if label.isascii():
            labels.append(label.lower())
            continue
        try:
            labels.append(idna.encode(label).decode("ascii"))
        except (idna.IDNAError, UnicodeError):
            return None  # tldextract could not decode a host label to this either
    return ".".join(labels)


@cache
def public_rules() -> tuple[str, ...]:
    """The public-section rules of tldextract's bundled snapshot, parsed by tldextract itself."""
    from tldextract.suffix_list import extract_tlds_from_suffix_list

    data = pkgutil.get_data("tldextract", ".tld_set_snapshot")
    if data is None:  # pragma: no cover - the package guarantees the file
        raise RuntimeError("tldextract's bundled .tld_set_snapshot is missing")
    public, _private = extract_tlds_from_suffix_list(data.decode("utf-8"))
    return tuple(public)


@cache
def psl_tables() -> tuple[list[tuple[str, bool, bool]], list[str]]:
    """(nodes, exceptions) as rows for `tieout_psl_node` and `tieout_psl_exception`."""
    rules: set[str] = set()
    wildcard_parents: set[str] = set()
    exceptions: set[str] = set()
    for raw in public_rules():
        rule = _ascii(raw)
        if rule is None:
            continue
        first, _, parent = rule.partition(".")
        if first == "*":
            wildcard_parents.add(parent)
        elif first.startswith("!"):
            exceptions.add(rule[1:])
        else:
            rules.add(rule)
    nodes: set[str] = set()
    # A wildcard or exception rule still creates the trie nodes of its parent labels.
    for rule in rules | wildcard_parents | {e.partition(".")[2] for e in exceptions}:
        labels = rule.split(".")
        nodes.update(".".join(labels[i:]) for i in range(len(labels)) if labels[i:])
    nodes.discard("")
    rows = [(n, n in rules, n in wildcard_parents) for n in sorted(nodes)]
    return rows, sorted(exceptions)
