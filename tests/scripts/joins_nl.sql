-- blocklab: set background_writer=off
-- Nested loops: each of the 5 outer customers probes ord_cust once (one
-- descent per outer row), and a three-table join in one plan.
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

-- Unhinted, 5 customers drive: the optimizer's own choice.
EXPLAIN SELECT c.name, o.id, o.amount FROM cust c JOIN ord o ON o.cust_id = c.id WHERE c.id <= 5;
-- Forced: nested loops with ord_cust probed per customer.
EXPLAIN SELECT /*+ LEADING(c o) USE_NL(o) INDEX(o ord_cust) */ c.name, o.id, o.amount FROM cust c JOIN ord o ON o.cust_id = c.id WHERE c.id <= 5 ORDER BY o.id;
-- Three tables: the order, the methods and the predicates of each step.
EXPLAIN SELECT /*+ LEADING(c r o) USE_NL(r o) */ r.rname, c.name, o.amount FROM region r, cust c, ord o WHERE r.id = c.region AND o.cust_id = c.id AND c.id <= 5;

SET AUTOTRACE ON
SELECT /*+ LEADING(c o) USE_NL(o) INDEX(o ord_cust) */ c.name, o.id, o.amount FROM cust c JOIN ord o ON o.cust_id = c.id WHERE c.id <= 5 ORDER BY o.id;
SELECT /*+ LEADING(c r o) USE_NL(r o) */ r.rname, c.name, o.amount FROM region r, cust c, ord o WHERE r.id = c.region AND o.cust_id = c.id AND c.id <= 5 ORDER BY o.amount;
SET AUTOTRACE OFF
