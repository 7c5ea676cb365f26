-- blocklab: set background_writer=off
-- Hash join: the same rows as joins_nl, built on the smaller input (the
-- five customers: hash join build rows/bytes), ord read once in full and
-- each order probing the build; unhinted, on all customers, it builds on
-- cust (10,000 rows, fewer than ord's 20,000).
-- The tables: tests/scripts/include/joins_tables.sql.
\i tests/scripts/include/joins_tables.sql

EXPLAIN SELECT /*+ LEADING(c o) USE_HASH(o) FULL(o) */ c.name, o.id, o.amount FROM cust c JOIN ord o ON o.cust_id = c.id WHERE c.id <= 5 ORDER BY o.id;
-- Every customer with every order: the unhinted choice when many drive.
EXPLAIN SELECT c.region, COUNT(*), SUM(o.amount) FROM cust c JOIN ord o ON o.cust_id = c.id GROUP BY c.region;

SET AUTOTRACE ON
SELECT /*+ LEADING(c o) USE_HASH(o) FULL(o) */ c.name, o.id, o.amount FROM cust c JOIN ord o ON o.cust_id = c.id WHERE c.id <= 5 ORDER BY o.id;
SET AUTOTRACE OFF
