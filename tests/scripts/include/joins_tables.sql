-- The tables of the joins_*.sql transcripts, run by each through \i.
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
