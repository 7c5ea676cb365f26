-- The basics: a table, rows, a query, a change, a commit, an error, and a
-- second session that sees only what was committed.
CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL);
INSERT INTO t VALUES (1, 'one', 1.5), (2, 'two', NULL), (3, NULL, 30);
SELECT * FROM t ORDER BY id;
UPDATE t SET name = 'three' WHERE id = 3;
COMMIT;

-- An error does not stop the script (ORA-00001: the key exists).
INSERT INTO t VALUES (1, 'again', 0);
SELECT * FROM missing;

-- An uncommitted change is visible in its own session only.
DELETE FROM t WHERE id = 2;
SELECT COUNT(*) FROM t;
\connect b
SELECT id, name FROM t ORDER BY id;
\connect main
ROLLBACK;
SELECT COUNT(*) FROM t WHERE name LIKE 't%';
