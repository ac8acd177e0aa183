"""tieout reads tldextract's bundled Public Suffix List itself (so that no command imports tldextract's package and
the HTTP client it brings): it must read exactly the rules tldextract reads."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

from tieout.entities.psl import psl_tables, public_rules, snapshot_path


def test_the_public_rules_are_tldextracts() -> None:
    from tldextract.suffix_list import extract_tlds_from_suffix_list

    data = pkgutil.get_data("tldextract", ".tld_set_snapshot")
    assert data is not None
    public, private = extract_tlds_from_suffix_list(data.decode("utf-8"))
    assert snapshot_path().read_bytes() == data
    assert list(public_rules()) == public
    assert len(public) > 5000 and "co.uk" in public and "*.kawasaki.jp" in public and "!city.kawasaki.jp" in public
    assert "github.io" in private and "github.io" not in public  # the private section is left out


def test_reading_the_rules_imports_no_tldextract() -> None:
    code = ("import sys\nfrom tieout.entities.psl import psl_tables\nnodes, exceptions = psl_tables()\n"
            "print(len(nodes), len(exceptions), sorted(m for m in sys.modules if m.split('.')[0] in "
            "('tldextract', 'requests')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    nodes, exceptions = psl_tables()
    assert out == [str(len(nodes)), str(len(exceptions)), "[]"]
