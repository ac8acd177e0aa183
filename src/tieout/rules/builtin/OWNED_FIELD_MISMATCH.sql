-- A registry field differs between its owner system and another system, compared normalised.
-- An empty value is not a difference: a system that does not hold the field cannot contradict it.
-- Raw values are compared first so that only the few pairs that differ as typed pay for normalising.
WITH differing AS (
    SELECT o.canonical_id, o.field, o.kind, o.source_system AS owner_system, v.source_system,
           o.value AS owner_value, v.value AS other_value, o.amount AS owner_amount, v.amount AS other_amount
    FROM field_values AS o
    JOIN ownership AS own ON own.field = o.field AND own.owner_system = o.source_system
    JOIN field_values AS v
        ON v.canonical_id = o.canonical_id AND v.field = o.field AND v.source_system <> o.source_system
    WHERE o.value <> v.value
),
compared AS (
    SELECT *, tieout_normalise(kind, owner_value) AS owner_key, tieout_normalise(kind, other_value) AS other_key
    FROM differing
)
SELECT
    canonical_id,
    source_system,
    field,
    CASE WHEN max(kind) = 'amount' THEN max(abs(owner_amount - other_amount)) ELSE 0 END AS impact,
    owner_system || ' has ' || string_agg(DISTINCT owner_value, ' / ') || ', ' || source_system
        || ' has ' || string_agg(DISTINCT other_value, ' / ') AS details
FROM compared
WHERE owner_key IS NOT NULL AND other_key IS NOT NULL AND owner_key <> other_key
GROUP BY canonical_id, field, owner_system, source_system
