-- Invoiced, but nobody used the product in the window: a potential refund.
SELECT
    b.canonical_id,
    b.amount AS impact,
    b.original_amount,
    b.original_currency,
    'invoice ' || b.invoice_ids || ' covers ' || CAST($as_of AS VARCHAR) || ', no active users in the '
        || CAST($window_days AS VARCHAR) || ' days to ' || CAST($as_of AS VARCHAR) AS details
FROM billing_active AS b
WHERE NOT EXISTS (
    SELECT 1 FROM tenant_activity AS a
    WHERE a.canonical_id = b.canonical_id
      AND a.last_active_on > $as_of - CAST($window_days AS INTEGER)
)
