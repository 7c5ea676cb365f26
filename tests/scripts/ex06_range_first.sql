-- Exercise (book chapter 6): the chapter's prediction on an index
-- (c1, c2): C1 = 5 AND C2 > 10 against C1 > 5 AND C2 = 10. Predict the
-- index entries examined by each.
CREATE TABLE t (id INTEGER PRIMARY KEY, c1 INTEGER, c2 INTEGER);
INSERT INTO t SELECT value, value % 10, value % 13 FROM generate_series(1, 2000);
CREATE INDEX t_c12 ON t (c1, c2);
COMMIT;
SET AUTOTRACE TRACEONLY
SELECT /*+ INDEX(t t_c12) */ id FROM t WHERE c1 = 5 AND c2 > 10;
SELECT /*+ INDEX(t t_c12) */ id FROM t WHERE c1 > 5 AND c2 = 10;
SET AUTOTRACE OFF
