-- A record no map row and no natural key ties to an entity.
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
    'no map row and no tax id, domain or legal name match' AS details
FROM source_records AS r
LEFT JOIN covering_invoices AS i
    ON r.source_system = 'billing' AND i.customer_id = r.source_id
WHERE r.status = 'unmapped'
GROUP BY r.source_system, r.source_id
