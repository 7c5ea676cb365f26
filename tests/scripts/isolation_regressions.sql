-- Isolation regressions: three behaviours that once differed from Oracle,
-- kept as a transcript so that they stay fixed. Not part of the Hermitage
-- matrix (tests/isolation.md).
--
-- 1. SET TRANSACTION applies to one transaction. SET TRANSACTION
--    ISOLATION LEVEL SERIALIZABLE holds for the transaction it starts; the
--    next one is READ COMMITTED again (a session-wide level is ALTER
--    SESSION SET ISOLATION_LEVEL = ...). T1's second transaction below
--    therefore sees 1 => 12 on its second read.
--
-- 2. SERIALIZABLE and a concurrent DELETE. T1's snapshot sees row 2; T2
--    deletes row 2 and commits; T1's `update ... where id = 2` fails with
--    ORA-08177, as in Oracle (the row T1 is about to change was deleted by
--    a transaction that committed after T1 began).
--
-- 3. A row moved by a concurrent update (READ COMMITTED). T1's update
--    grows row 1 past its block, so heap::update moves it to a new rowid
--    ("rows moved by update"). T2's `update m set n = n + 1 where id = 1`
--    waits for T1, then finds the old slot gone: the statement restarts on
--    a new snapshot, finds the row at its new rowid and updates it (1 row
--    updated, n = 1). Oracle keeps a migrated row's rowid instead; the
--    outcome is the same.

create table test (id int not null primary key, value int);
insert into test (id, value) values (1, 10), (2, 20);
commit;

\echo ==== 1. SET TRANSACTION applies to one transaction ====
\connect t1
set transaction isolation level serializable;
select * from test where id = 1;
commit;
\connect main
update test set value = 11 where id = 1;
commit;
\connect t1
-- A new transaction, no SET TRANSACTION: Oracle is READ COMMITTED here.
-- Shows 1 => 11.
select * from test where id = 1;
\connect main
update test set value = 12 where id = 1;
commit;
\connect t1
-- READ COMMITTED again: 1 => 12, as in Oracle.
select * from test where id = 1;
commit;

\echo ==== 2. SERIALIZABLE update of a row deleted after the snapshot ====
\connect main
drop table test;
create table test (id int not null primary key, value int);
insert into test (id, value) values (1, 10), (2, 20);
commit;
\connect t1
set transaction isolation level serializable;
select * from test order by id;
\connect t2
set transaction isolation level read committed;
delete from test where id = 2;
commit;
\connect t1
-- ORA-08177, as in Oracle.
update test set value = 21 where id = 2;
rollback;

\echo ==== 3. READ COMMITTED update of a row a concurrent update moved ====
\connect main
create table m (id int primary key, n int, pad text);
insert into m select value, 0, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' from generate_series(1, 80);
commit;
\connect t1
set transaction isolation level read committed;
-- Row 1 grows from 100 to 400 characters and no longer fits its full
-- block: it moves (SET AUTOTRACE ON shows "1 rows moved by update").
update m set pad = pad || pad || pad || pad where id = 1;
\connect t2
set transaction isolation level read committed;
-- Waits for T1's row lock.
update m set n = n + 1 where id = 1;
\connect t1
commit;
\wait t2
-- 1 row updated, as in Oracle (after a restart).
\connect t2
commit;
\connect main
-- n = 1: no update lost.
select id, n, length(pad) from m where id = 1;
