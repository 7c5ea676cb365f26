-- blocklab: set background_writer=off
-- Exercise (book chapter 9): delete half of a table, commit, and load the
-- same number of rows by direct path. Predict the full scan's gets before
-- the delete, after it, and after the load.
CREATE TABLE t (id INTEGER, pad TEXT);
INSERT INTO t SELECT value, 'row ' || value FROM generate_series(1, 2000);
COMMIT;
SET AUTOTRACE TRACEONLY
SELECT /*+ FULL(t) */ COUNT(*) FROM t;
DELETE FROM t WHERE id > 1000;
COMMIT;
SELECT /*+ FULL(t) */ COUNT(*) FROM t;
INSERT /*+ APPEND */ INTO t SELECT value, 'row ' || value FROM generate_series(1001, 2000);
COMMIT;
SELECT /*+ FULL(t) */ COUNT(*) FROM t;
SET AUTOTRACE OFF
