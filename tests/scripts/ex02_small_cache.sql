-- blocklab: set block_size=2048 cache_frames=64 background_writer=off
-- Exercise (book chapter 2): chapter 2's table (284 blocks) with a buffer
-- cache of 64 frames. Predict the physical reads of two full scans in a row.
CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO t SELECT value, 'name ' || value FROM generate_series(1, 20000);
COMMIT;
SET AUTOTRACE TRACEONLY
SELECT /*+ FULL(t) */ * FROM t;
SELECT /*+ FULL(t) */ * FROM t;
SET AUTOTRACE OFF
