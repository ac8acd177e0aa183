-- Billing invoices for a period the CRM has no live contract for.
SELECT
    b.canonical_id,
    b.amount AS impact,
    b.original_amount,
    b.original_currency,
    'invoice ' || b.invoice_ids || ' covers ' || CAST($as_of AS VARCHAR) || ' and no contract is active' AS details
FROM billing_active AS b
WHERE NOT EXISTS (SELECT 1 FROM crm_active AS c WHERE c.canonical_id = b.canonical_id)
