-- A contract is live in the CRM, but no invoice covers the as-of date.
SELECT
    c.canonical_id,
    c.monthly_value AS impact,
    c.original_monthly_value AS original_amount,
    c.original_currency,
    'active contract ' || c.contract_ids || ' and no invoice covering ' || CAST($as_of AS VARCHAR) AS details
FROM crm_active AS c
WHERE NOT EXISTS (SELECT 1 FROM billing_active AS b WHERE b.canonical_id = c.canonical_id)
