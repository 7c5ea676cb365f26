-- Exercise (book chapter 6): an index on (c1, c2, c3) and a predicate on
-- c1 and c3 only. Predict the matching columns, the screening predicate,
-- and how many index entries are examined and screened out.
CREATE TABLE t (id INTEGER PRIMARY KEY, c1 INTEGER, c2 INTEGER, c3 INTEGER);
INSERT INTO t SELECT value, value % 10, value % 7, (value / 10) % 5 FROM generate_series(1, 1000);
CREATE INDEX t_c123 ON t (c1, c2, c3);
COMMIT;
EXPLAIN PLAN FOR SELECT id FROM t WHERE c1 = 3 AND c3 = 4;
SET AUTOTRACE TRACEONLY
SELECT id FROM t WHERE c1 = 3 AND c3 = 4;
SET AUTOTRACE OFF
