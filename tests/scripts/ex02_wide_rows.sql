-- blocklab: set block_size=2048 background_writer=off
-- Exercise (book chapter 2): the same 20,000 ids, each row 100 bytes
-- wider. Predict the full scan's gets.
CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO t SELECT value, 'name ' || value || '....................................................................................................' FROM generate_series(1, 20000);
COMMIT;
-- 5,000 rows a fetch call (SQL*Plus' largest ARRAYSIZE): the fetch
-- calls add 4 gets to the scan's, not 1,333 (chapter 8, C35).
SET ARRAYSIZE 5000
SET AUTOTRACE TRACEONLY
SELECT /*+ FULL(t) */ * FROM t;
SET AUTOTRACE OFF
