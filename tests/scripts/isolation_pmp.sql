-- Isolation matrix (Hermitage, github.com/ept/hermitage): PMP,
-- predicate-many-preceders.
--
-- Anomaly: a transaction evaluates a predicate twice and the second
-- evaluation sees a different set of rows (a phantom) because another
-- transaction committed in between; or, with a write predicate, a
-- statement's WHERE clause is judged against a mix of row versions.
--
-- Oracle 11.2 (Hermitage oracle.md):
--   read predicate, READ COMMITTED   allowed: T1's second query
--                                    (mod(value, 3) = 0) sees T2's new
--                                    row 3 => 30.
--   read predicate, SERIALIZABLE     prevented: it still returns nothing.
--   write predicate, READ COMMITTED  allowed: T1 adds 10 to every row;
--                                    T2's `delete ... where value = 20`
--                                    blocks on row 2; when T1 commits,
--                                    Oracle finds row 2 (now 30) no longer
--                                    matches and RESTARTS the statement
--                                    with a new snapshot, in which row 1
--                                    (now 20) matches: row 1 is deleted,
--                                    leaving 2 => 30.
--   write predicate, SERIALIZABLE    prevented: T2 gets ORA-08177 when T1
--                                    commits.
-- blocklab:
--   read predicate, READ COMMITTED   allowed, same as Oracle.
--   read predicate, SERIALIZABLE     prevented, same as Oracle.
--   write predicate, READ COMMITTED  allowed, same as Oracle: the DELETE
--                                    finds row 2 (20 in its snapshot),
--                                    waits, re-checks it as 30, and so
--                                    restarts on a new snapshot, where row
--                                    1 (now 20) matches: 1 row deleted,
--                                    2 => 30 remains ("write consistency
--                                    restarts", session/sqlops.rs).
--   write predicate, SERIALIZABLE    prevented, same as Oracle (ORA-08177:
--                                    row 2 changed after T2's snapshot).

create table test (id int not null primary key, value int);
insert into test (id, value) values (1, 10), (2, 20);
commit;

\echo ==== PMP, READ COMMITTED (Oracle: allowed) ====
\connect t1
set transaction isolation level read committed;
\connect t2
set transaction isolation level read committed;
\connect t1
-- Returns nothing.
select * from test where value = 30;
\connect t2
insert into test (id, value) values (3, 30);
commit;
\connect t1
-- Returns the newly inserted row 3 => 30.
select * from test where mod(value, 3) = 0;
commit;

\echo ==== PMP, SERIALIZABLE (Oracle: prevented) ====
\connect main
drop table test;
create table test (id int not null primary key, value int);
insert into test (id, value) values (1, 10), (2, 20);
commit;
\connect t1
set transaction isolation level serializable;
\connect t2
set transaction isolation level serializable;
\connect t1
-- Returns nothing.
select * from test where value = 30;
\connect t2
insert into test (id, value) values (3, 30);
commit;
\connect t1
-- Still returns nothing.
select * from test where mod(value, 3) = 0;
commit;

\echo ==== PMP write predicate, READ COMMITTED (Oracle and blocklab: allowed, the delete restarts, 2 => 30 remains) ====
\connect main
drop table test;
create table test (id int not null primary key, value int);
insert into test (id, value) values (1, 10), (2, 20);
commit;
\connect t1
set transaction isolation level read committed;
\connect t2
set transaction isolation level read committed;
\connect t1
update test set value = value + 10;
\connect t2
-- Returns 1 => 10, 2 => 20.
select * from test order by id;
-- Blocks on row 2 (value 20 in T2's snapshot), locked by T1.
delete from test where value = 20;
\connect t1
-- Commit unblocks T2: row 2 is re-checked as 30, so the delete restarts
-- on a new snapshot and removes row 1 (now 20): 1 row deleted.
commit;
\wait t2
\connect t2
-- 2 => 30, as in Oracle.
select * from test order by id;
commit;

\echo ==== PMP write predicate, SERIALIZABLE (Oracle: prevented, ORA-08177) ====
\connect main
drop table test;
create table test (id int not null primary key, value int);
insert into test (id, value) values (1, 10), (2, 20);
commit;
\connect t1
set transaction isolation level serializable;
\connect t2
set transaction isolation level serializable;
\connect t1
update test set value = value + 10;
\connect t2
-- Blocks on row 2, locked by T1.
delete from test where value = 20;
\connect t1
-- Commit unblocks T2, which gets ORA-08177.
commit;
\wait t2
\connect t2
rollback;
\connect main
-- Final state: 1 => 20, 2 => 30 (T1's update only).
select * from test order by id;
