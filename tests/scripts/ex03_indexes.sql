-- blocklab: set background_writer=off
-- Exercise (book chapter 3): one row into a table without an index and
-- into one with two, each in its own transaction. Predict the redo
-- entries and the redo size of each INSERT.
CREATE TABLE plain (id INTEGER, a INTEGER, b INTEGER);
CREATE TABLE indexed (id INTEGER, a INTEGER, b INTEGER);
CREATE INDEX indexed_a ON indexed (a);
CREATE INDEX indexed_b ON indexed (b);
INSERT INTO plain VALUES (0, 0, 0);
INSERT INTO indexed VALUES (0, 0, 0);
COMMIT;
SET AUTOTRACE TRACEONLY
INSERT INTO plain VALUES (1, 1, 1);
COMMIT;
INSERT INTO indexed VALUES (1, 1, 1);
SET AUTOTRACE OFF
COMMIT;
