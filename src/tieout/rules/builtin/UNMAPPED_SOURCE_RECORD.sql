-- A record no map row and no natural key ties to an entity.
SELECT
    NULL AS canonical_id,
    r.source_system,
    r.source_id,
    coalesce(sum(i.amount), 0) AS impact,
    'no map row and no tax id, domain or legal name match' AS details
FROM source_records AS r
LEFT JOIN covering_invoices AS i
    ON r.source_system = 'billing' AND i.customer_id = r.source_id
WHERE r.status = 'unmapped'
GROUP BY r.source_system, r.source_id
