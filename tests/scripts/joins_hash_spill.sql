-- blocklab: set background_writer=off
-- A hash join whose build does not fit its work area: with HASH_AREA_SIZE
-- at 64 KiB the 20,000-row build spills in partitions to temporary blocks,
-- written once and read back once (one pass), with the same rows.
-- SWAP_JOIN_INPUTS(o) makes ord the build input: left to itself the hash
-- join builds on the smaller input, the 300 customers of regions 0-2.
-- The tables: tests/scripts/include/joins_tables.sql.
\i tests/scripts/include/joins_tables.sql

SET AUTOTRACE ON
-- In memory (the 1 MiB default): workarea executions - optimal.
SELECT /*+ LEADING(c o) USE_HASH(o) SWAP_JOIN_INPUTS(o) FULL(o) */ c.region, COUNT(*), SUM(o.amount) FROM cust c JOIN ord o ON o.cust_id = c.id WHERE c.region < 3 GROUP BY c.region ORDER BY 1;
ALTER SESSION SET HASH_AREA_SIZE = 65536;
-- Spilled: workarea executions - onepass, direct temporary writes and reads.
SELECT /*+ LEADING(c o) USE_HASH(o) SWAP_JOIN_INPUTS(o) FULL(o) */ c.region, COUNT(*), SUM(o.amount) FROM cust c JOIN ord o ON o.cust_id = c.id WHERE c.region < 3 GROUP BY c.region ORDER BY 1;
SET AUTOTRACE OFF
