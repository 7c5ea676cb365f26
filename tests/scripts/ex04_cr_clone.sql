-- Exercise (book chapter 4): main changes one row three times and does
-- not commit; reporter reads it. Predict the CR blocks created and the
-- undo records applied by reporter's query.
CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER);
INSERT INTO t SELECT value, 0 FROM generate_series(1, 10);
COMMIT;
UPDATE t SET v = 1 WHERE id = 5;
UPDATE t SET v = 2 WHERE id = 5;
UPDATE t SET v = 3 WHERE id = 5;
\connect reporter
SET AUTOTRACE ON
SELECT v FROM t WHERE id = 5;
SELECT /*+ FULL(t) */ SUM(v) FROM t;
SET AUTOTRACE OFF
