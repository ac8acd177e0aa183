-- Billed FTEs against the FTEs operations counts. An entity with no usage in the window is not compared:
-- "no data" is BILLING_ACTIVE_OPS_INACTIVE's business, not a drift to zero.
WITH billed AS (
    SELECT canonical_id, billed_fte, amount, original_amount, original_currency
    FROM billing_active
    WHERE billed_fte > 0
),
operational AS (
    -- each tenant's FTE count on its latest usage day within the window, summed over the entity
    SELECT canonical_id, sum(fte_count) AS ops_fte
    FROM tenant_activity
    WHERE canonical_id IS NOT NULL AND fte_counted_on > $as_of - CAST($window_days AS INTEGER)
    GROUP BY canonical_id
)
SELECT
    b.canonical_id,
    -- difference x billed price per FTE (amount / billed FTE), kept exact
    tieout_div(abs(b.billed_fte - o.ops_fte) * b.amount, b.billed_fte) AS impact,
    tieout_div(abs(b.billed_fte - o.ops_fte) * b.original_amount, b.billed_fte) AS original_amount,
    b.original_currency,
    'billed ' || CAST(b.billed_fte AS VARCHAR) || ' FTE, operations counts ' || CAST(o.ops_fte AS VARCHAR)
        AS details
FROM billed AS b
JOIN operational AS o ON o.canonical_id = b.canonical_id
WHERE abs(b.billed_fte - o.ops_fte) > $tolerance * b.billed_fte
