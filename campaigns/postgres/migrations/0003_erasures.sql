-- 0003: an erasure holds. The external ids of erased members are kept as keys (hashes, as on the
-- suppression list), so that re-importing an old file does not bring the person back: the import
-- reports the row as erased. `dispatch members readmit` removes the key when the person signs up
-- again, deliberately.
CREATE TABLE erased_members (
  key       bytea PRIMARY KEY,
  erased_at timestamptz NOT NULL DEFAULT now()
);
