-- A recorded hand correction that the exports do not show. The newest correction of an entity's field sets
-- the value every system holding that field should now carry: in the corrected system the record it names
-- (else every record of the entity there) must carry it, and another system's value must agree with it (an
-- empty value there is not a disagreement, as in OWNED_FIELD_MISMATCH). Values are compared normalised by the
-- field's kind. A correction is checked only from $grace_days after the day it was recorded, so the next
-- export has had a chance to show it.
WITH latest AS (
    SELECT *, tieout_normalise(kind, new_value) AS new_key
    FROM corrections
    WHERE recorded_on <= $as_of - CAST($grace_days AS INTEGER)
    QUALIFY row_number() OVER (PARTITION BY canonical_id, field ORDER BY seq DESC) = 1
),
in_corrected AS (
    SELECT l.*, l.source_system AS checked_system, v.source_id AS record_id, v.value,
           tieout_normalise(l.kind, v.value) AS value_key
    FROM latest AS l
    LEFT JOIN field_values AS v
        ON v.canonical_id = l.canonical_id AND v.field = l.field AND v.source_system = l.source_system
       AND (l.source_id IS NULL OR v.source_id = l.source_id)
),
in_others AS (
    -- Another system is compared with the corrected record as it now stands, both in the registry's shared
    -- vocabulary (`mapped`): systems name statuses differently. Until the correction has landed there is
    -- nothing to agree with, and in_corrected reports it.
    SELECT l.*, v.source_system AS checked_system, v.source_id AS record_id, v.value,
           tieout_normalise(l.kind, v.mapped) AS value_key
    FROM latest AS l
    JOIN field_values AS c
        ON c.canonical_id = l.canonical_id AND c.field = l.field AND c.source_system = l.source_system
       AND (l.source_id IS NULL OR c.source_id = l.source_id)
       AND tieout_normalise(l.kind, c.value) IS NOT DISTINCT FROM l.new_key
    JOIN field_values AS v
        ON v.canonical_id = l.canonical_id AND v.field = l.field AND v.source_system <> l.source_system
    WHERE tieout_normalise(l.kind, v.mapped) IS NOT NULL
      AND tieout_normalise(l.kind, v.mapped) IS DISTINCT FROM tieout_normalise(l.kind, c.mapped)
),
missed AS (
    SELECT *, CASE WHEN record_id IS NULL THEN 'no record'
                   WHEN value_key IS NULL THEN 'no value'
                   ELSE '''' || value || '''' END AS shown
    FROM (SELECT * FROM in_corrected WHERE value_key IS DISTINCT FROM new_key
          UNION ALL BY NAME SELECT * FROM in_others)
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
