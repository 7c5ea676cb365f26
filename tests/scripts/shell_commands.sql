-- The shell's commands for finding your way (issue 19): DESCRIBE, SHOW
-- TABLES and its other spellings, \d, \di, help, \i, \timing and the
-- data dictionary views a query can read (user_tables, user_indexes,
-- user_ind_columns, user_tab_columns). The
-- elapsed-time lines of \timing are masked by tests/golden.rs.
CREATE TABLE dept (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE emp (id INTEGER PRIMARY KEY, dept INTEGER REFERENCES dept, sal REAL CHECK (sal > 0), name TEXT);
CREATE INDEX emp_dept ON emp (dept, sal DESC);
INSERT INTO dept VALUES (1, 'sales'), (2, 'research');
COMMIT;
-- Statistics are NULL until ANALYZE, as in Oracle's user_tables.
SHOW TABLES
ANALYZE TABLE dept;
\dt
.tables
DESCRIBE emp
DESC dept
\d emp
describe nosuch
\di
\di dept
.indexes emp
help
\i tests/scripts/include/emp_rows.sql
\timing on
SELECT COUNT(*) FROM emp;
SET TIMING OFF
SELECT COUNT(*) FROM emp;
\i tests/scripts/include/no_such_file.sql
-- The same dictionary through SQL, as Oracle's views name it.
ANALYZE TABLE emp;
SELECT table_name, num_rows, blocks FROM user_tables ORDER BY table_name;
SELECT index_name, table_name, blevel, leaf_blocks, distinct_keys, clustering_factor FROM user_indexes ORDER BY index_name;
SELECT index_name, column_name, column_position, descend FROM user_ind_columns WHERE table_name = 'emp' ORDER BY index_name, column_position;
SELECT column_name, data_type, nullable, num_distinct FROM user_tab_columns WHERE table_name = 'emp' ORDER BY column_id;
