-- Usage without a covering invoice: revenue leakage. The money at risk is the monthly value of the
-- live contracts, or of the latest contract when none is live (the customer still uses what it bought).
WITH ops_active AS (
    SELECT canonical_id, max(last_active_on) AS last_used
    FROM tenant_activity
    WHERE canonical_id IS NOT NULL AND last_active_on > $as_of - CAST($window_days AS INTEGER)
    GROUP BY canonical_id
),
latest_contract AS (
    SELECT canonical_id, arg_max(monthly_value, start_date) AS monthly_value
    FROM contracts
    WHERE canonical_id IS NOT NULL AND status <> 'draft'
    GROUP BY canonical_id
)
SELECT
    o.canonical_id,
    coalesce(c.monthly_value, l.monthly_value, 0) AS impact,
    'active users on ' || CAST(o.last_used AS VARCHAR) || ' and no invoice covering ' || CAST($as_of AS VARCHAR)
        AS details
FROM ops_active AS o
LEFT JOIN crm_active AS c ON c.canonical_id = o.canonical_id
LEFT JOIN latest_contract AS l ON l.canonical_id = o.canonical_id
WHERE NOT EXISTS (SELECT 1 FROM billing_active AS b WHERE b.canonical_id = o.canonical_id)
