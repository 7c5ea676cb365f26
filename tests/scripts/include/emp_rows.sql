-- Run by shell_commands.sql through \i.
INSERT INTO emp VALUES (10, 1, 1000, 'ann'), (11, 2, 1200, 'bob');
COMMIT;
