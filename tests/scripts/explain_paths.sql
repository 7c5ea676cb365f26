-- EXPLAIN for each access path, and AUTOTRACE showing that the plan
-- EXPLAIN prints is the work the statement does.
CREATE TABLE t (a INTEGER PRIMARY KEY, b INTEGER, c INTEGER, d TEXT);
INSERT INTO t SELECT value, value % 10, value % 7, 'x' || value FROM generate_series(1, 2000);
CREATE INDEX t_bc ON t (b, c);
COMMIT;

-- Without statistics the optimizer goes by rules and says so.
EXPLAIN SELECT d FROM t WHERE b = 3;
ANALYZE TABLE t;

-- Full table scan: every block below the HWM.
EXPLAIN SELECT d FROM t WHERE d LIKE '%7';
-- Index range scan, two matching columns, a table filter.
EXPLAIN SELECT d FROM t WHERE b = 3 AND c = 4 AND d LIKE 'x1%';
-- One matching column, a screening predicate on the second.
EXPLAIN SELECT /*+ INDEX(t t_bc) */ d FROM t WHERE b = 3 AND c <> 4;
-- No matching column: the whole index is read and screened.
EXPLAIN SELECT /*+ INDEX(t t_bc) */ d FROM t WHERE c = 4;
-- NUM_INDEX_KEYS limits the matching columns.
EXPLAIN SELECT /*+ NUM_INDEX_KEYS(t t_bc 1) */ d FROM t WHERE b = 3 AND c = 4;
-- IN-list iterator: one descent per value.
EXPLAIN SELECT /*+ INDEX(t t_bc) */ d FROM t WHERE b IN (1, 5, 9) AND c = 2;
-- Index-only: no table access at all.
EXPLAIN SELECT b, c FROM t WHERE b = 3 AND c > 2;
-- Sort avoidance: = on b, ORDER BY c comes out of the index in order.
EXPLAIN SELECT /*+ INDEX(t t_bc) */ a, c FROM t WHERE b = 3 ORDER BY c;
-- ... and an IN-list breaks it.
EXPLAIN SELECT /*+ INDEX(t t_bc) */ a, c FROM t WHERE b IN (3, 4) ORDER BY c;
-- DML plans.
EXPLAIN UPDATE t SET d = 'y' WHERE a = 5;
EXPLAIN DELETE FROM t WHERE b = 3 AND c = 1;
EXPLAIN INSERT /*+ APPEND */ INTO t SELECT value + 5000, 1, 1, 'z' FROM generate_series(1, 10);

SET AUTOTRACE TRACEONLY
SELECT /*+ FULL(t) */ d FROM t WHERE b = 3 AND c = 4;
SELECT /*+ INDEX(t t_bc) */ d FROM t WHERE b = 3 AND c = 4;
SELECT /*+ INDEX(t t_bc) */ d FROM t WHERE b = 3 AND c <> 4;
SELECT b, c FROM t WHERE b = 3 AND c > 2;
SELECT /*+ INDEX(t t_bc) */ a, c FROM t WHERE b = 3 ORDER BY c;
SELECT /*+ INDEX(t t_bc) */ a, c FROM t WHERE b IN (3, 4) ORDER BY c;
SET AUTOTRACE OFF
