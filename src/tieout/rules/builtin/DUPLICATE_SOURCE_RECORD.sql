-- Two or more records of one system for one entity. The first record (the mapped one, then the lowest id)
-- is the keeper; the invoices the others carry are the money at risk of being billed twice.
WITH records AS (
    SELECT
        canonical_id,
        source_system,
        source_id,
        row_number() OVER (
            PARTITION BY canonical_id, source_system ORDER BY resolved_by = 'map' DESC, source_id
        ) AS position,
        count(*) OVER (PARTITION BY canonical_id, source_system) AS records
    FROM source_records
    WHERE status = 'resolved'
)
SELECT
    r.canonical_id,
    r.source_system,
    coalesce(sum(i.amount) FILTER (WHERE r.position > 1), 0) AS impact,
    -- the same money in the invoices' own currency, when they share one
    CASE WHEN min(i.original_currency) FILTER (WHERE r.position > 1)
              = max(i.original_currency) FILTER (WHERE r.position > 1)
         THEN sum(i.original_amount) FILTER (WHERE r.position > 1) END AS original_amount,
    CASE WHEN min(i.original_currency) FILTER (WHERE r.position > 1)
              = max(i.original_currency) FILTER (WHERE r.position > 1)
         THEN min(i.original_currency) FILTER (WHERE r.position > 1) END AS original_currency,
    CAST(max(r.records) AS VARCHAR) || ' ' || r.source_system || ' records: '
        || string_agg(DISTINCT r.source_id, ', ' ORDER BY r.source_id) AS details
FROM records AS r
LEFT JOIN covering_invoices AS i
    ON r.source_system = 'billing' AND i.customer_id = r.source_id
WHERE r.records > 1
GROUP BY r.canonical_id, r.source_system
