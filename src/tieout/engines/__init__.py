"""The engines the rules run on: what one offers (`base.Engine`), the embedded one (`duckdb.DuckDBEngine`) and
Apache Spark (`spark.SparkEngine`).

The rules see only the canonical tables; everything an engine must do for them — run a statement, read and
write a table, provide the functions rules may call, lock itself down before rule SQL runs — is in `Engine`.
"""

from tieout.engines.base import Engine, EngineError, NotOneStatement
from tieout.engines.duckdb import DuckDBEngine
from tieout.engines.spark import SparkEngine

# Every engine tieout can run the rules on, by name (PySpark is imported only when a Spark engine is opened).
ENGINES: dict[str, type[Engine]] = {DuckDBEngine.name: DuckDBEngine, SparkEngine.name: SparkEngine}


def engine_functions() -> dict[str, tuple[str, ...]]:
    """Each function some engine provides to rules (a capability a rule declares with `requires:`), with the
    engines that provide it."""
    provided: dict[str, list[str]] = {}
    for engine in ENGINES.values():
        for function in engine.functions:
            provided.setdefault(function, []).append(engine.name)
    return {function: tuple(names) for function, names in sorted(provided.items())}


__all__ = ["ENGINES", "DuckDBEngine", "Engine", "EngineError", "NotOneStatement", "SparkEngine", "engine_functions"]
