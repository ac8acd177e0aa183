from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import invoke
from tieout.config import Project, load_project
from tieout.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "tieout.yml").write_text(text)
    return tmp_path


def test_minimal_config_takes_every_default(tmp_path: Path) -> None:
    p = load_project(write(tmp_path, "exports: exports/{date}\nentity_map: entity_map.csv\n"))
    assert p.reporting_currency == "USD"
    assert (p.severity.P1, p.severity.P2, p.severity.P3) == (Decimal(50000), Decimal(10000), Decimal(1000))
    assert p.system_owners == {"crm": "account_managers", "billing": "ar", "ops": "product"}
    assert p.expected_lag_days == 30
    assert p.store_path == tmp_path / ".tieout"


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("exports: exports/{date}\nentity_map: m.csv\nexprots: x\n", "unknown key 'exprots'"),
        ("entity_map: m.csv\n", "missing required key 'exports'"),
        ("exports: exports\nentity_map: m.csv\n", "key 'exports': must contain '{date}'"),
        ("exports: e/{date}\nentity_map: m.csv\nseverity: {P1: lots}\n", "key 'severity.P1'"),
        ("exports: e/{date}\nentity_map: m.csv\nseverity: {P1: 10, P2: 100}\n", "P1 >= P2 >= P3"),
        ("exports: e/{date}\nentity_map: m.csv\nreporting_currency: dollars\n", "key 'reporting_currency'"),
        ("exports: e/{date}\nentity_map: m.csv\ntimezone: Mars/Olympus\n", "unknown time zone"),
        ("exports: e/{date}\nentity_map: m.csv\nrouting: [{when: {colour: red}, team: x}]\n",
         "unknown key 'routing.0.when.colour'"),
        ("exports: [\n", "not valid YAML"),
        # sources: (contract §3b): unknown formats, tables, fields and keys, each named with what was expected
        ("exports: e/{date}\nentity_map: m.csv\nsources: {crm: {format: salesforse}}\n",
         "key 'sources.crm.format': Input should be 'standard', 'salesforce', 'hubspot'"),
        ("exports: e/{date}\nentity_map: m.csv\nsources: {erp: {format: csv}}\n",
         "Input should be 'crm', 'billing' or 'ops' (got 'erp')"),
        ("exports: e/{date}\nentity_map: m.csv\nsources: {crm: {format: salesforce, fields: {crm_accounts.vat: X}}}\n",
         "sources.crm.fields: crm_accounts has no column 'vat' (expected one of account_id, legal_name, domain"),
        ("exports: e/{date}\nentity_map: m.csv\nsources: {crm: {format: salesforce, fields: {tax_id: X}}}\n",
         "sources.crm.fields: 'tax_id' is not table.column of a crm table (expected e.g. crm_accounts.legal_name)"),
        ("exports: e/{date}\nentity_map: m.csv\nsources: {ops: {format: csv, tables: {ops_users: {file: u.csv}}}}\n",
         "sources.ops.tables: unknown table 'ops_users' (the ops tables are ops_tenants, ops_usage)"),
        ("exports: e/{date}\nentity_map: m.csv\nsources: {ops: {format: csv, tables: {ops_usage: {file: u.csv}}}}\n",
         "sources.ops.tables: a csv source names a file for each ops table; missing for ops_tenants"),
        ("exports: e/{date}\nentity_map: m.csv\nsources: {ops: {format: csv, tables: {ops_usage: {file: u.csv, "
         "columns: {day: d}}}}}\n", "sources.ops.tables.ops_usage.columns: ops_usage has no column 'day'"),
        ("exports: e/{date}\nentity_map: m.csv\nsources: {crm: {format: salesforce, encoding: latin-9x}}\n",
         "key 'sources.crm.encoding': unknown encoding 'latin-9x'"),
        ("exports: e/{date}\nentity_map: m.csv\nsources: {crm: {format: salesforce, path: ../elsewhere}}\n",
         "key 'sources.crm.path': must be a folder inside the day's folder"),
        ("exports: e/{date}\nentity_map: m.csv\nsources: {billing: {format: sql}}\n",
         "a sql source needs `url:`"),
        ("exports: e/{date}\nentity_map: m.csv\nsources: {billing: {format: stripe, colour: red}}\n",
         "unknown key 'sources.billing.colour'"),
    ],
)
def test_bad_config_names_file_key_and_expectation(tmp_path: Path, text: str, phrase: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_project(write(tmp_path, text))
    assert "tieout.yml" in str(err.value)
    assert phrase in str(err.value)


def test_bad_config_exit_code(tmp_path: Path) -> None:
    write(tmp_path, "exports: exports/{date}\nentity_map: m.csv\nbogus: 1\n")
    result = invoke("exceptions", "--project", str(tmp_path))
    assert result.exit_code == 3
    assert "unknown key 'bogus'" in result.output


def test_no_project_here(tmp_path: Path) -> None:
    result = invoke("exceptions", "--project", str(tmp_path))
    assert result.exit_code == 3
    assert "tieout init" in result.output


def test_init_scaffolds_a_working_project(tmp_path: Path) -> None:
    target = tmp_path / "proj"
    result = invoke("init", str(target))
    assert result.exit_code == 0, result.output
    assert (target / "rules").is_dir() and not any((target / "rules").iterdir())
    assert (target / "entity_map.csv").read_text().startswith("canonical_id,source_system,source_id")
    text = (target / "tieout.yml").read_text()
    assert text.count("#") > 20  # commented, every default shown
    assert load_project(target).exports == "exports/{date}"
    assert invoke("init", str(target)).exit_code == 3  # never overwrites a project


def test_demo_never_replaces_a_folder_that_is_not_an_earlier_demo(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    result = invoke("demo", str(tmp_path))
    assert result.exit_code == 3 and "not an earlier tieout demo" in result.output
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_a_project_without_sources_reads_the_standard_layout(tmp_path: Path) -> None:
    p = load_project(write(tmp_path, "exports: exports/{date}\nentity_map: m.csv\n"))
    assert p.sources == {}


def test_the_contracts_sources_block_loads_as_written(tmp_path: Path) -> None:
    """Contract §3b's example, key for key (a test outside the project writes these keys)."""
    p = load_project(write(tmp_path, """\
exports: exports/{date}
entity_map: entity_map.csv
sources:
  crm:
    format: salesforce
    path: salesforce
    encoding: latin-1
    fields:
      crm_accounts.tax_id: TAX_ID__C
      crm_contracts.annual_value: ANNUAL_VALUE__C
      crm_contracts.contracted_fte: SEATS__C
  billing:
    format: stripe
    path: stripe
  ops:
    format: csv
    path: ops
    tables:
      ops_tenants:
        file: tenants.csv
        columns: {tenant_id: id, display_name: workspace, domain: primary_domain, created_on: created_at, status: state}
      ops_usage:
        file: usage.csv
        columns: {tenant_id: tenant_id, date: day, active_users: dau, fte_count: seats_in_use}
"""))
    assert (p.sources["crm"].format, p.sources["crm"].encoding, p.sources["crm"].fields["crm_accounts.tax_id"]) == (
        "salesforce", "latin-1", "TAX_ID__C")
    assert p.sources["billing"].path == "stripe"
    assert p.sources["ops"].tables["ops_usage"].columns["date"] == "day"


# --- docs/configuration.md --------------------------------------------------------------------------------------

DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_every_key_of_tieout_yml_is_documented() -> None:
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", DOCS.read_text(), flags=re.MULTILINE))
    keys = {name for name, field in Project.model_fields.items() if not field.exclude}
    assert keys == documented


def test_the_documented_example_loads(tmp_path: Path) -> None:
    example = DOCS.read_text().split("```yaml\n")[1].split("```")[0]
    (tmp_path / "tieout.yml").write_text(example)
    project = load_project(tmp_path)
    assert project.reporting_currency == "EUR" and project.sources["crm"].format == "salesforce"


def test_the_scaffold_points_at_the_reference_that_exists() -> None:
    scaffold = (Path(__file__).resolve().parents[1] / "src/tieout/scaffold/tieout.yml").read_text()
    assert "docs/configuration.md" in scaffold and DOCS.is_file()
