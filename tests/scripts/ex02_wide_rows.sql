-- blocklab: set block_size=2048 background_writer=off
-- Exercise (book chapter 2): the same 20,000 ids, each row 100 bytes
-- wider. Predict the full scan's gets.
CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO t SELECT value, 'name ' || value || '....................................................................................................' FROM generate_series(1, 20000);
COMMIT;
SET AUTOTRACE TRACEONLY
SELECT /*+ FULL(t) */ * FROM t;
SET AUTOTRACE OFF
