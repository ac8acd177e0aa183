-- A natural key matches several entities: never merged silently, a person must add a map row.
SELECT
    NULL AS canonical_id,
    r.source_system,
    r.source_id,
    coalesce(sum(i.amount), 0) AS impact,
    r.resolved_by || ' ' || coalesce(r.matched_key, '') || ' matches '
        || array_to_string(r.candidates, ', ') AS details
FROM source_records AS r
LEFT JOIN covering_invoices AS i
    ON r.source_system = 'billing' AND i.customer_id = r.source_id
WHERE r.status = 'ambiguous'
GROUP BY r.source_system, r.source_id, r.resolved_by, r.matched_key, r.candidates
