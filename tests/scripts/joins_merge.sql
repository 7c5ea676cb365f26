-- blocklab: set background_writer=off
-- Sort-merge join: the same rows as joins_nl; ord sorted on the join key
-- (sorts (memory), sorts (rows)), the customers not: read through cust_pk
-- they arrive in key order (no SORT JOIN for them); then merged.
-- The tables: tests/scripts/include/joins_tables.sql.
\i tests/scripts/include/joins_tables.sql

EXPLAIN SELECT /*+ LEADING(c o) USE_MERGE(o) FULL(o) */ c.name, o.id, o.amount FROM cust c JOIN ord o ON o.cust_id = c.id WHERE c.id <= 5 ORDER BY o.id;

SET AUTOTRACE ON
SELECT /*+ LEADING(c o) USE_MERGE(o) FULL(o) */ c.name, o.id, o.amount FROM cust c JOIN ord o ON o.cust_id = c.id WHERE c.id <= 5 ORDER BY o.id;
SET AUTOTRACE OFF
