-- The test database of the README's plan-diff walkthrough (claim C31):
-- 10000 rows loaded in key order, so the primary key is well clustered.
-- Run by examples/plan_diff/run.sh.
CREATE TABLE t (k INTEGER PRIMARY KEY, pad TEXT);
INSERT INTO t SELECT value, 'row ' || value || ' of t, padded to a hundred bytes or so ..................' FROM generate_series(0, 9999) ORDER BY value;
COMMIT;
ANALYZE TABLE t;
