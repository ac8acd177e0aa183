-- A registry field differs between its owner system (for that entity, that day) and another system, compared
-- normalised: names, tax ids and domains by the natural-key normalisers, dates as dates, statuses mapped to
-- the registry's shared vocabulary, amounts in the reporting currency within the field's tolerance.
-- An empty value is not a difference: a system that does not hold the field cannot contradict it.
-- Mapped values are compared as typed first so that only the few pairs that differ pay for normalising.
WITH differing AS MATERIALIZED (
    SELECT o.canonical_id, o.field, o.kind, o.source_system AS owner_system, v.source_system,
           o.value AS owner_value, v.value AS other_value, o.mapped AS owner_mapped, v.mapped AS other_mapped,
           o.amount AS owner_amount, v.amount AS other_amount, o.tolerance,
           o.original_amount AS owner_original, v.original_amount AS other_original,
           o.original_currency AS owner_currency, v.original_currency AS other_currency
    FROM field_values AS o
    JOIN field_values AS v
        ON v.canonical_id = o.canonical_id AND v.field = o.field AND v.source_system <> o.source_system
    WHERE o.source_system = o.owner_system AND o.mapped <> v.mapped
),
keyed AS MATERIALIZED (
    -- Each distinct value normalised once, in one place: DuckDB plans every call of tieout_normalise anew.
    SELECT kind, raw, tieout_normalise(kind, raw) AS key
    FROM (SELECT kind, owner_mapped AS raw FROM differing UNION SELECT kind, other_mapped FROM differing)
),
compared AS (
    SELECT d.*, o.key AS owner_key, v.key AS other_key
    FROM differing AS d
    JOIN keyed AS o ON o.kind = d.kind AND o.raw = d.owner_mapped
    JOIN keyed AS v ON v.kind = d.kind AND v.raw = d.other_mapped
)
SELECT
    canonical_id,
    source_system,
    field,
    CASE WHEN max(kind) = 'amount' THEN max(abs(owner_amount - other_amount)) ELSE 0 END AS impact,
    -- the same difference in the records' own currency, when both systems hold the amount in one currency
    CASE WHEN max(kind) = 'amount' AND min(owner_currency) = max(other_currency)
              AND max(owner_currency) = min(other_currency)
         THEN max(abs(owner_original - other_original)) END AS original_amount,
    CASE WHEN max(kind) = 'amount' AND min(owner_currency) = max(other_currency)
              AND max(owner_currency) = min(other_currency)
         THEN min(owner_currency) END AS original_currency,
    owner_system || ' has ' || string_agg(DISTINCT owner_value, ' / ') || ', ' || source_system
        || ' has ' || string_agg(DISTINCT other_value, ' / ') AS details
FROM compared
WHERE owner_key IS NOT NULL AND other_key IS NOT NULL
  AND CASE WHEN kind = 'amount' THEN abs(owner_amount - other_amount) > tolerance ELSE owner_key <> other_key END
GROUP BY canonical_id, field, owner_system, source_system
