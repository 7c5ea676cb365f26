-- blocklab: set background_writer=off
-- Exercise (book chapter 8): 1,000 rows in one INSERT ... SELECT, into a
-- table without an index and into one with three. Predict how redo size
-- and db block gets grow with the indexes.
CREATE TABLE plain (id INTEGER, a INTEGER, b INTEGER, c INTEGER);
CREATE TABLE indexed (id INTEGER, a INTEGER, b INTEGER, c INTEGER);
CREATE INDEX indexed_a ON indexed (a);
CREATE INDEX indexed_b ON indexed (b);
CREATE INDEX indexed_c ON indexed (c);
COMMIT;
SET AUTOTRACE TRACEONLY
INSERT INTO plain SELECT value, value % 7, value % 11, value % 13 FROM generate_series(1, 1000);
COMMIT;
INSERT INTO indexed SELECT value, value % 7, value % 11, value % 13 FROM generate_series(1, 1000);
COMMIT;
SET AUTOTRACE OFF
