-- Exercise (book chapter 4): main updates all 100 rows of a one-block
-- table and does not commit; reporter scans the table, then main rolls
-- back and reporter scans again. Predict the CR blocks created and the
-- undo records applied by each scan.
CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER);
INSERT INTO t SELECT value, 0 FROM generate_series(1, 100);
COMMIT;
UPDATE t SET v = 1;
\connect reporter
SET AUTOTRACE ON
SELECT /*+ FULL(t) */ SUM(v) FROM t;
\connect main
ROLLBACK;
\connect reporter
SELECT /*+ FULL(t) */ SUM(v) FROM t;
SET AUTOTRACE OFF
