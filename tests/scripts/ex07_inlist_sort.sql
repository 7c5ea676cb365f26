-- Exercise (book chapter 7): an index on (b, c); ORDER BY c with b = 3 and
-- with b IN (3, 4). Predict which of the two needs a sort.
CREATE TABLE t (id INTEGER PRIMARY KEY, b INTEGER, c INTEGER);
INSERT INTO t SELECT value, value % 10, value % 97 FROM generate_series(1, 2000);
CREATE INDEX t_bc ON t (b, c);
COMMIT;
SET AUTOTRACE TRACEONLY
SELECT /*+ INDEX(t t_bc) */ id FROM t WHERE b = 3 ORDER BY c;
SELECT /*+ INDEX(t t_bc) */ id FROM t WHERE b IN (3, 4) ORDER BY c;
SET AUTOTRACE OFF
