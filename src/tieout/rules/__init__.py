"""Named, deterministic mismatch rules: SQL files over the canonical tables, each with its metadata.

`tieout.rules.registry` loads them (`Rule`, `load_rules`). This file imports nothing, so the modules of the
package can import one another without running into their own package half-initialised.
"""
