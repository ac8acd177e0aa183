-- A natural key matches several entities: never merged silently, a person must add a map row.
SELECT
    NULL AS canonical_id,
    r.source_system,
    r.source_id,
    coalesce(sum(i.amount), 0) AS impact,
    -- the same money in the invoices' own currency, when they share one
    CASE WHEN min(i.original_currency) = max(i.original_currency) THEN sum(i.original_amount) END
        AS original_amount,
    CASE WHEN min(i.original_currency) = max(i.original_currency) THEN min(i.original_currency) END
        AS original_currency,
    r.resolved_by || ' ' || coalesce(r.matched_key, '') || ' matches '
        || array_to_string(r.candidates, ', ') AS details
FROM source_records AS r
LEFT JOIN covering_invoices AS i
    ON r.source_system = 'billing' AND i.customer_id = r.source_id
WHERE r.status = 'ambiguous'
GROUP BY r.source_system, r.source_id, r.resolved_by, r.matched_key, r.candidates
