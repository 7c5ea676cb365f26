-- blocklab: set block_size=8192 background_writer=off
-- Exercise (book chapter 2): chapter 2's table in 8 KiB blocks instead of
-- 2 KiB. Predict the gets of the full scan and of the unique lookup.
CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO t SELECT value, 'name ' || value FROM generate_series(1, 20000);
COMMIT;
ANALYZE TABLE t;
-- 5,000 rows a fetch call (SQL*Plus' largest ARRAYSIZE): the fetch
-- calls add 4 gets to the scan's, not 1,333 (chapter 8, C35).
SET ARRAYSIZE 5000
SET AUTOTRACE TRACEONLY
SELECT /*+ FULL(t) */ * FROM t;
SELECT name FROM t WHERE id = 15000;
SET AUTOTRACE OFF
