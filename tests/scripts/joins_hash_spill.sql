-- blocklab: set background_writer=off
-- A hash join whose build does not fit its work area: with HASH_AREA_SIZE
-- at 64 KiB the 20,000-row build spills in partitions to temporary blocks,
-- written once and read back once (one pass), with the same rows.
-- Three tables, statistics gathered: 100 regions, 10,000 customers
-- (region = id % 100), 20,000 orders (two per customer: cust_id =
-- (id * 7) % 10000 + 1 visits every customer twice), an index on the
-- orders' join column.
CREATE TABLE region (id INTEGER PRIMARY KEY, rname TEXT);
CREATE TABLE cust (id INTEGER PRIMARY KEY, region INTEGER, name TEXT);
CREATE TABLE ord (id INTEGER PRIMARY KEY, cust_id INTEGER, amount INTEGER);
INSERT INTO region SELECT value, 'r' || value FROM generate_series(0, 99);
INSERT INTO cust SELECT value, value % 100, 'c' || value FROM generate_series(1, 10000);
INSERT INTO ord SELECT value, (value * 7) % 10000 + 1, value % 1000 FROM generate_series(1, 20000);
CREATE INDEX ord_cust ON ord (cust_id);
COMMIT;
ANALYZE TABLE region;
ANALYZE TABLE cust;
ANALYZE TABLE ord;

SET AUTOTRACE ON
-- In memory (the 1 MiB default): workarea executions - optimal.
SELECT /*+ LEADING(c o) USE_HASH(o) FULL(o) */ c.region, COUNT(*), SUM(o.amount) FROM cust c JOIN ord o ON o.cust_id = c.id WHERE c.region < 3 GROUP BY c.region ORDER BY 1;
ALTER SESSION SET HASH_AREA_SIZE = 65536;
-- Spilled: workarea executions - onepass, direct temporary writes and reads.
SELECT /*+ LEADING(c o) USE_HASH(o) FULL(o) */ c.region, COUNT(*), SUM(o.amount) FROM cust c JOIN ord o ON o.cust_id = c.id WHERE c.region < 3 GROUP BY c.region ORDER BY 1;
SET AUTOTRACE OFF
