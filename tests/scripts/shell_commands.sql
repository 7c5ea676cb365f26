-- The shell's commands for finding your way (issue 19): DESCRIBE, SHOW
-- TABLES and its other spellings, \d, \di, help, \i and \timing. The
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
