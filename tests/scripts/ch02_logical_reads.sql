-- blocklab: set block_size=2048 background_writer=off cache_frames=16384
-- What one logical read is (book chapter 2). Small blocks give a table of
-- a few hundred blocks and a primary-key index of three levels; no
-- background writer, so that no block is written behind the script's back;
-- a cache of which a tenth (what one commit cleans out) holds every block
-- the load changes, so no query below pays for a delayed cleanout.
CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO t SELECT value, 'name ' || value FROM generate_series(1, 20000);
COMMIT;
ANALYZE TABLE t;

SET AUTOTRACE TRACEONLY
-- A full scan: the segment header, then every block below the HWM, once.
SELECT /*+ FULL(t) */ * FROM t;
-- The same again: the same logical reads; still no physical read.
SELECT /*+ FULL(t) */ * FROM t;
-- A unique lookup: root, branch, leaf, then one table block.
SELECT name FROM t WHERE id = 15000;
-- Ten neighbours: the same descent, one table get, nine pinned visits.
SELECT name FROM t WHERE id BETWEEN 15000 AND 15009;
-- A change: found in consistent mode, changed in current mode.
UPDATE t SET name = 'changed' WHERE id = 15000;
UPDATE t SET name = 'changed' WHERE id = 15001;
-- An insert: the table block and two current-mode index descents.
INSERT INTO t VALUES (20001, 'new');
COMMIT;
SET AUTOTRACE OFF
