-- A recorded hand correction that the exports do not show. The newest correction of an entity's field sets
-- the value every system holding that field should now carry: in the corrected system the record it names
-- (else every record of the entity there) must carry it, and another system's value must agree with it (an
-- empty value there is not a disagreement, as in OWNED_FIELD_MISMATCH). Values are compared normalised by the
-- field's kind; another system's amount agrees within the field's tolerance. A correction is checked only from $grace_days after the day it was recorded, so the next
-- export has had a chance to show it.
-- Every value is normalised in one place (`keyed`): DuckDB plans each call of tieout_normalise anew.
WITH latest AS MATERIALIZED (
    -- each field's newest correction (its column `newest` is 1, carried along unread)
    SELECT *
    FROM (
        SELECT *, row_number() OVER (PARTITION BY canonical_id, field ORDER BY seq DESC) AS newest
        FROM corrections
        WHERE recorded_on <= $as_of - CAST($grace_days AS INTEGER)
    ) AS ranked
    WHERE newest = 1
),
held AS MATERIALIZED (
    -- the values of the corrected fields of the corrected entities, in every system (the registry's
    -- field_values, and the record fields corrections name)
    SELECT v.* FROM corrected_values AS v
    WHERE EXISTS (SELECT 1 FROM latest AS l WHERE v.canonical_id = l.canonical_id AND v.field = l.field)
),
keyed AS MATERIALIZED (
    SELECT kind, raw, tieout_normalise(kind, raw) AS key
    FROM (SELECT kind, new_value AS raw FROM latest
          UNION SELECT kind, value FROM held
          UNION SELECT kind, mapped FROM held)
    WHERE raw IS NOT NULL
),
wanted AS (
    SELECT l.*, k.key AS new_key
    FROM latest AS l LEFT JOIN keyed AS k ON k.kind = l.kind AND k.raw = l.new_value
),
values_ AS (
    SELECT h.*, kv.key AS value_key, km.key AS mapped_key
    FROM held AS h
    LEFT JOIN keyed AS kv ON kv.kind = h.kind AND kv.raw = h.value
    LEFT JOIN keyed AS km ON km.kind = h.kind AND km.raw = h.mapped
),
in_corrected AS (
    SELECT l.*, l.source_system AS checked_system, v.source_id AS record_id, v.value, v.value_key
    FROM wanted AS l
    LEFT JOIN values_ AS v
        ON v.canonical_id = l.canonical_id AND v.field = l.field AND v.source_system = l.source_system
       AND (l.source_id IS NULL OR v.source_id = l.source_id)
),
in_others AS (
    -- Another system is compared with the corrected record as it now stands, both in the registry's shared
    -- vocabulary (`mapped`): systems name statuses differently. Until the correction has landed there is
    -- nothing to agree with, and in_corrected reports it.
    SELECT l.*, v.source_system AS checked_system, v.source_id AS record_id, v.value, v.mapped_key AS value_key
    FROM wanted AS l
    JOIN values_ AS c
        ON c.canonical_id = l.canonical_id AND c.field = l.field AND c.source_system = l.source_system
       AND (l.source_id IS NULL OR c.source_id = l.source_id)
       AND c.value_key IS NOT DISTINCT FROM l.new_key
    JOIN values_ AS v
        ON v.canonical_id = l.canonical_id AND v.field = l.field AND v.source_system <> l.source_system
    WHERE v.mapped_key IS NOT NULL
      AND CASE WHEN l.kind = 'amount' THEN abs(v.amount - c.amount) > v.tolerance
               ELSE v.mapped_key IS DISTINCT FROM c.mapped_key END
),
missed AS (
    SELECT *, CASE WHEN record_id IS NULL THEN 'no record'
                   WHEN value_key IS NULL THEN 'no value'
                   ELSE '''' || value || '''' END AS shown
    -- in_corrected and in_others have the same columns in the same order (wanted's, then the checked record's)
    FROM (SELECT * FROM in_corrected WHERE value_key IS DISTINCT FROM new_key
          UNION ALL SELECT * FROM in_others)
)
SELECT
    canonical_id,
    checked_system AS source_system,
    field,
    0 AS impact,
    'correction #' || CAST(max(seq) AS VARCHAR) || ' (' || CAST(max(recorded_on) AS VARCHAR) || ', '
        || max(who) || coalesce(', ' || max(ticket), '') || ') set ' || max(source_system) || ' ' || field
        || ' to ' || coalesce('''' || max(new_value) || '''', 'no value') || '; ' || checked_system
        || CASE WHEN checked_system = max(source_system) THEN ' still has ' ELSE ' has ' END
        || string_agg(DISTINCT shown, ' / ' ORDER BY shown) AS details
FROM missed
GROUP BY canonical_id, field, checked_system
