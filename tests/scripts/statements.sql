-- Every statement form of the SQL subset, in one transcript.
CREATE TABLE dept (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL UNIQUE);
CREATE TABLE emp (
  id INTEGER PRIMARY KEY,
  dept_id INTEGER REFERENCES dept(id),
  name TEXT NOT NULL,
  salary REAL CHECK (salary >= 0),
  bonus FLOAT
) NOLOGGING;
CREATE INDEX emp_dept ON emp (dept_id, salary DESC);
CREATE UNIQUE INDEX emp_name ON emp (name);
INSERT INTO dept VALUES (10, 'sales'), (20, 'ops'), (30, 'labs');
INSERT INTO emp VALUES (1, 10, 'ann', 3000, NULL), (2, 10, 'bob', 2500, 100),
  (3, 20, 'cy', 4000, 50.5), (4, NULL, 'dee', 1000, NULL);
INSERT INTO emp (id, name, salary) SELECT value + 100, 'gen' || value, value * 10 FROM generate_series(1, 5);
COMMIT;

-- Queries: predicates, NULL logic, expressions, ordering, limits.
SELECT id, name, salary FROM emp WHERE dept_id = 10 ORDER BY salary DESC;
SELECT name FROM emp WHERE salary BETWEEN 1000 AND 3000 AND name LIKE '_e%';
SELECT name, bonus FROM emp WHERE bonus IS NULL AND id < 100 ORDER BY 1;
SELECT name FROM emp WHERE NOT (bonus > 60) ORDER BY name;
SELECT name FROM emp WHERE dept_id IN (SELECT id FROM dept WHERE name <> 'sales') ORDER BY name;
SELECT name || '@' || dept_id AS who, salary * 1.1 + 5 AS raised FROM emp WHERE id IN (1, 3) ORDER BY 2 DESC;
SELECT dept_id, COUNT(*) AS n, SUM(salary), MIN(name), MAX(salary), AVG(salary) FROM emp GROUP BY dept_id ORDER BY dept_id NULLS FIRST;
SELECT dept_id, COUNT(*) FROM emp GROUP BY dept_id HAVING COUNT(*) > 1;
SELECT DISTINCT dept_id FROM emp WHERE dept_id IS NOT NULL ORDER BY dept_id LIMIT 2;
SELECT id FROM emp ORDER BY id LIMIT 3 OFFSET 2;
SELECT 1 + 2 * 3, 7 / 2, 7 % 3, 7 / 0, ABS(-4), LENGTH('abc'), UPPER('x'), COALESCE(NULL, 'y'), SUBSTR('hello', 2, 3), ROUND(2.567, 1);

-- Changes, constraint errors (the session goes on), transactions.
UPDATE emp SET salary = salary + 100, bonus = 0 WHERE dept_id = 10;
DELETE FROM emp WHERE id > 103;
INSERT INTO emp VALUES (5, 99, 'eve', 10, NULL);
INSERT INTO emp VALUES (6, 10, 'ann', 10, NULL);
INSERT INTO emp VALUES (7, 10, 'fay', -1, NULL);
INSERT INTO emp VALUES (8, 10, NULL, 1, NULL);
SELECT COUNT(*), SUM(salary) FROM emp;
ROLLBACK;
SELECT COUNT(*), SUM(salary) FROM emp;
SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;
SELECT COUNT(*) FROM emp;
COMMIT;
SET TRANSACTION ISOLATION LEVEL READ COMMITTED;

-- DDL on a live table.
ALTER TABLE emp ADD COLUMN title TEXT;
UPDATE emp SET title = 'boss' WHERE id = 3;
SELECT id, name, title FROM emp WHERE id < 5 ORDER BY id;
ALTER TABLE emp DROP COLUMN bonus;
SELECT * FROM emp WHERE id = 3;
ALTER INDEX emp_dept UNUSABLE;
SELECT /*+ INDEX(emp emp_dept) */ COUNT(*) FROM emp WHERE dept_id = 10;
ALTER INDEX emp_dept REBUILD;
ALTER TABLE emp LOGGING;
ANALYZE TABLE emp;
INSERT /*+ APPEND */ INTO emp (id, name, salary) SELECT value + 200, 'bulk' || value, 1 FROM generate_series(1, 3);
SELECT COUNT(*) FROM emp;
COMMIT;
SELECT COUNT(*) FROM emp;
DROP INDEX emp_dept;
DROP TABLE dept;
DROP TABLE emp;
DROP TABLE dept;
DROP TABLE IF EXISTS dept;

-- Syntax errors name the position.
SELECT name FROM WHERE x = 1;
SELECT 'unterminated FROM dual;
