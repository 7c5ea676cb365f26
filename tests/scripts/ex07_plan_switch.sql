-- Exercise (book chapter 7): with statistics, the optimizer costs the
-- index path against the full scan. Predict at which of these ranges the
-- plan switches to a full scan on the scattered table.
CREATE TABLE t (k INTEGER, pad TEXT);
INSERT INTO t SELECT (value * 37) % 5000, 'row ' || value FROM generate_series(1, 5000);
CREATE INDEX t_k ON t (k);
COMMIT;
ANALYZE TABLE t;
EXPLAIN PLAN FOR SELECT pad FROM t WHERE k BETWEEN 0 AND 9;
EXPLAIN PLAN FOR SELECT pad FROM t WHERE k BETWEEN 0 AND 49;
EXPLAIN PLAN FOR SELECT pad FROM t WHERE k BETWEEN 0 AND 199;
