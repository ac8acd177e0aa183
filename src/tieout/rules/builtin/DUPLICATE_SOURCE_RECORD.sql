-- Two or more records of one system for one entity. The first record (the mapped one, then the lowest id)
-- is the keeper; the invoices the others carry are the money at risk of being billed twice.
WITH repeated AS (
    -- the (entity, system) pairs with more than one record: only their records are numbered below (numbering
    -- every record sorts them all, about 2 CPU seconds at a million companies)
    SELECT canonical_id, source_system
    FROM source_records
    WHERE status = 'resolved'
    GROUP BY canonical_id, source_system
    HAVING count(*) > 1
),
records AS (
    SELECT
        s.canonical_id,
        s.source_system,
        s.source_id,
        row_number() OVER (
            PARTITION BY s.canonical_id, s.source_system ORDER BY s.resolved_by = 'map' DESC, s.source_id
        ) AS position,
        count(*) OVER (PARTITION BY s.canonical_id, s.source_system) AS records
    FROM source_records AS s
    JOIN repeated AS d
        ON d.canonical_id IS NOT DISTINCT FROM s.canonical_id AND d.source_system = s.source_system
    WHERE s.status = 'resolved'
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
