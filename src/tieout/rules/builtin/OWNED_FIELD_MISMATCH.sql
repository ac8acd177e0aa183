-- A registry field differs between its owner system and another system, compared normalised.
-- An empty value is not a difference: a system that does not hold the field cannot contradict it.
SELECT
    o.canonical_id,
    v.source_system,
    o.field,
    CASE WHEN max(o.kind) = 'amount' THEN max(abs(o.amount - v.amount)) ELSE 0 END AS impact,
    o.source_system || ' has ' || string_agg(DISTINCT o.value, ' / ') || ', ' || v.source_system
        || ' has ' || string_agg(DISTINCT v.value, ' / ') AS details
FROM field_values AS o
JOIN ownership AS own ON own.field = o.field AND own.owner_system = o.source_system
JOIN field_values AS v
    ON v.canonical_id = o.canonical_id AND v.field = o.field AND v.source_system <> o.source_system
WHERE o.normalised IS NOT NULL
  AND v.normalised IS NOT NULL
  AND o.normalised <> v.normalised
GROUP BY o.canonical_id, o.field, o.source_system, v.source_system
