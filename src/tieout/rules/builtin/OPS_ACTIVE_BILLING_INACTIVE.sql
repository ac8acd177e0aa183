-- Usage without a covering invoice: revenue leakage. The money at risk is the monthly value of the
-- live contracts, or of the latest contract when none is live (the customer still uses what it bought).
WITH ops_active AS (
    SELECT canonical_id, max(last_active_on) AS last_used
    FROM tenant_activity
    WHERE canonical_id IS NOT NULL AND last_active_on > $as_of - CAST($window_days AS INTEGER)
    GROUP BY canonical_id
),
latest_contract AS (
    -- the latest to start of the contracts with a value (ties: the highest contract id)
    SELECT canonical_id, monthly_value, original_monthly_value, original_currency
    FROM (
        SELECT canonical_id, monthly_value, original_monthly_value, original_currency,
               row_number() OVER (PARTITION BY canonical_id ORDER BY start_date DESC, contract_id DESC) AS newest
        FROM contracts
        WHERE canonical_id IS NOT NULL AND status <> 'draft' AND monthly_value IS NOT NULL
          AND start_date IS NOT NULL
    ) AS ranked
    WHERE newest = 1
)
SELECT
    o.canonical_id,
    coalesce(c.monthly_value, l.monthly_value, 0) AS impact,
    CASE WHEN c.monthly_value IS NOT NULL THEN c.original_monthly_value ELSE l.original_monthly_value END
        AS original_amount,
    CASE WHEN c.monthly_value IS NOT NULL THEN c.original_currency ELSE l.original_currency END
        AS original_currency,
    'active users on ' || CAST(o.last_used AS VARCHAR) || ' and no invoice covering ' || CAST($as_of AS VARCHAR)
        AS details
FROM ops_active AS o
LEFT JOIN crm_active AS c ON c.canonical_id = o.canonical_id
LEFT JOIN latest_contract AS l ON l.canonical_id = o.canonical_id
WHERE NOT EXISTS (SELECT 1 FROM billing_active AS b WHERE b.canonical_id = o.canonical_id)
