"""The functions a rule's SQL may call: an allow-list, so a function DuckDB adds tomorrow is refused until
someone has looked at it. Each is pure — it computes from its arguments only: no file, setting, clock,
environment, catalogue or random number (a rule must give the same findings for the same as-of date).

Names are DuckDB's, lower case; a call is compared case- and quote-insensitively (`"SUM"(x)` is `sum`).
tests/security/test_rule_sql_corpus.py proves none of them is a table function.
"""

from __future__ import annotations

from tieout.engines.duckdb import DuckDBEngine

_AGGREGATES = """
    any_value approx_count_distinct arbitrary arg_max arg_min argmax argmin array_agg avg bit_and bit_or
    bit_xor bool_and bool_or count count_if countif first fsum group_concat kahan_sum last list
    listagg max max_by mean median min min_by mode product quantile quantile_cont quantile_disc
    stddev stddev_pop stddev_samp string_agg sum sumkahan var_pop var_samp variance
"""
_WINDOW = "row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value"
_CONDITIONAL = "coalesce ifnull nullif greatest least if"
_MATH = """
    abs ceil ceiling floor round round_even trunc sign sqrt cbrt power pow exp ln log log10 log2 mod
    even isnan isinf isfinite
"""
_TEXT = """
    lower upper lcase ucase length len strlen char_length character_length trim ltrim rtrim
    substr substring left right lpad rpad replace translate concat concat_ws split_part string_split
    str_split starts_with ends_with prefix suffix contains position strpos instr reverse
    regexp_matches regexp_replace regexp_extract regexp_full_match format printf md5 hash
    array_to_string ascii chr nfc_normalize strip_accents
    levenshtein damerau_levenshtein jaro_winkler_similarity jaccard
"""
_DATES = """
    date_trunc datetrunc date_part datepart date_diff datediff date_sub datesub date_add year
    month day dayofmonth dayofweek dayofyear week weekofyear isodow quarter yearweek last_day dayname
    monthname strftime strptime try_strptime make_date make_timestamp epoch to_days to_months to_years
    to_weeks to_hours to_minutes to_seconds
"""
_LISTS_AND_STRUCTS = """
    list_value list_pack array_value list_contains list_has array_contains list_position list_extract
    list_element array_extract array_slice list_slice array_length list_transform list_apply
    array_transform array_apply list_filter array_filter list_sort array_sort list_distinct
    array_distinct list_unique list_concat array_concat list_has_any list_has_all flatten
    struct_pack struct_extract row
"""
_TYPES = "typeof"
# The functions the engine provides beyond SQL (its capabilities; docs/rules.md): a rule that calls one
# declares it under `requires:`.
_TIEOUT = " ".join(DuckDBEngine.functions)

ALLOWED_FUNCTIONS = frozenset(
    " ".join((_AGGREGATES, _WINDOW, _CONDITIONAL, _MATH, _TEXT, _DATES, _LISTS_AND_STRUCTS, _TYPES,
              _TIEOUT)).split()
)

# Called by name, but syntax to DuckDB's parser: not in its function catalogue.
PARSER_REWRITES = frozenset({"coalesce", "ifnull"})

# Names DuckDB's own parser writes for syntax rather than a call by name: `[1, 2]`, `{'a': 1}`,
# `count(*)`, `EXTRACT(...)`, `INTERVAL 3 DAY`, `SIMILAR TO`. Checked on DuckDB's parse tree only.
DUCKDB_SYNTAX_FUNCTIONS = frozenset({"count_star", "to_microseconds", "to_milliseconds", "to_centuries",
                                     "to_decades", "to_millennia"})
