"""One error hierarchy; each class carries the exit code the CLI returns for it.

The CLI catches `TieoutError` in one place and prints `str(error)`, so every message must stand on its
own: name the file, and where it applies the row and the column.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path


class TieoutError(Exception):
    """Base of every error tieout reports to a user."""

    exit_code = 1


class ConfigError(TieoutError):
    """tieout.yml, the entity map, a rule or its metadata is wrong."""

    exit_code = 3


class OutOfMemory(ConfigError):
    """A run's DuckDB could not do a step within the run's memory limit (TIEOUT_MEMORY_LIMIT): the setting is
    too small for the day, the input is not bad."""


class InputError(TieoutError):
    """An export is malformed: refused before anything is written."""

    exit_code = 4

    def __init__(
        self,
        message: str,
        *,
        file: Path | str,
        row: int | str | None = None,
        column: str | None = None,
        column_word: str = "column",
    ) -> None:
        # `row` is a row number of a CSV file, or a place already worded ("object 17 (in_1Nv…)" of a JSON
        # export); `column_word` is "field" where a JSON export names its values.
        self.file = str(file)
        self.row = row
        self.column = column
        self.column_word = column_word
        self.problem = message
        where = [self.file]
        if row is not None:
            where.append(f"row {row}" if isinstance(row, int) else row)
        if column is not None:
            where.append(f"{column_word} {column!r}")
        super().__init__(f"{', '.join(where)}: {message}")

    def __reduce__(self) -> tuple[object, tuple[str]]:
        # Keyword-only arguments are not pickled by default; a parallel backfill sends this across processes.
        return partial(InputError, file=self.file, row=self.row, column=self.column,
                       column_word=self.column_word), (self.problem,)


class InputErrors(InputError):
    """Several malformed exports (or several problems in one): every one found, up to `MAX_INPUT_ERRORS`, so a
    person fixes them in one go rather than one run at a time. Its file, row and column are the first's."""

    def __init__(self, errors: list[InputError]) -> None:
        first = errors[0]
        super().__init__(first.problem, file=first.file, row=first.row, column=first.column,
                         column_word=first.column_word)
        self.errors = errors
        more = " (the first shown; there may be more)" if len(errors) >= MAX_INPUT_ERRORS else ""
        self.args = (f"{len(errors)} problems in the exports{more}:\n" + "\n".join(f"  - {e}" for e in errors),)

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> tuple[object, tuple[list[InputError]]]:  # type: ignore[override]
        return InputErrors, (self.errors,)


MAX_INPUT_ERRORS = 20


def input_errors(errors: list[InputError]) -> InputError:
    """One error for `errors` (at least one): itself when alone, else all of them, at most `MAX_INPUT_ERRORS`;
    an error found twice (one database down for two tables) is named once."""
    unique = list({str(e): e for e in errors}.values())[:MAX_INPUT_ERRORS]
    return unique[0] if len(unique) == 1 else InputErrors(unique)


def each_input_error(error: InputError) -> list[InputError]:
    return error.errors if isinstance(error, InputErrors) else [error]


class ExceptionsAtOrAbove(TieoutError):
    """`--fail-on` found open exceptions at or above the given severity (not a failure of tieout)."""

    exit_code = 5


class RunInProgress(TieoutError):
    """Another run holds the project's lock."""

    exit_code = 6


class StoreError(TieoutError):
    """The project's store is damaged: a manifest, a stored Parquet file or the source history's state cannot be
    read (or a stored day's source history cannot be replayed). Not a configuration error: tieout.yml is fine,
    the files it wrote are not."""

    exit_code = 11


class UnsafeRuleError(ConfigError):
    """A rule's SQL is not one read-only SELECT over the canonical tables."""


class NotFound(TieoutError):
    """An exception, entity or rule the user named does not exist."""

    exit_code = 7


class BadArgument(TieoutError):
    """A command-line value the package refuses once it can check it (an empty reason, an unknown field)."""

    exit_code = 2


class AuditBroken(TieoutError):
    """`tieout audit verify` found a hash-chained log edited, deleted from, reordered or inserted into, or not
    matching the head a stored day anchored."""

    exit_code = 8


class Conflict(TieoutError):
    """Someone else acted on the exception since the version this action was based on: nothing was changed."""

    exit_code = 9


class NotAllowed(TieoutError):
    """The user's role or team does not allow this action on this object (refused and audited)."""

    exit_code = 10
