from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import invoke
from tieout.config import load_project
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
