-- blocklab: set background_writer=off
-- Nested loops: each of the 5 outer customers probes ord_cust once (one
-- descent per outer row), and a three-table join in one plan.
-- The tables: tests/scripts/include/joins_tables.sql.
\i tests/scripts/include/joins_tables.sql

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
