-- The production database of the README's plan-diff walkthrough (claim
-- C31): the same 10000 rows in another order, so the primary key is
-- poorly clustered and the optimizer's statistics differ from test's.
-- Run by examples/plan_diff/run.sh.
CREATE TABLE t (k INTEGER PRIMARY KEY, pad TEXT);
INSERT INTO t SELECT value, 'row ' || value || ' of t, padded to a hundred bytes or so ..................' FROM generate_series(0, 9999) ORDER BY MOD(value * 7919, 10000);
COMMIT;
ANALYZE TABLE t;
