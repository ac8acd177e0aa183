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

import importlib.util
import re
from functools import cache
from pathlib import Path

import idna

# tldextract's own reading of its snapshot (`tldextract.suffix_list.extract_tlds_from_suffix_list`: the rules are
# the lines' first words, the public section ends at this marker), done here so that the snapshot is read without
# importing tldextract, whose package imports `requests` — a tenth of a second of every read command's start — for
# the downloads tieout never asks for. tests/entities/test_psl.py keeps the two readings the same.
_PRIVATE_SECTION = "// ===BEGIN PRIVATE DOMAINS==="
_RULE = re.compile(r"^(?P<suffix>[.*!]*\w[\S]*)", re.UNICODE | re.MULTILINE)


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


def snapshot_path() -> Path:
    """tldextract's bundled snapshot of the Public Suffix List, found without importing tldextract."""
    spec = importlib.util.find_spec("tldextract")
    if spec is None or spec.origin is None:  # pragma: no cover - a dependency of tieout
        raise RuntimeError("tldextract is not installed")
    return Path(spec.origin).parent / ".tld_set_snapshot"


@cache
def public_rules() -> tuple[str, ...]:
    """The public-section rules of tldextract's bundled snapshot, read as tldextract reads them."""
    public, _, _private = snapshot_path().read_text(encoding="utf-8").partition(_PRIVATE_SECTION)
    return tuple(m.group("suffix") for m in _RULE.finditer(public))


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
