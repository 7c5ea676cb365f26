-- Isolation: current blocklab behaviour that differs from Oracle (and
-- from blocklab's own documentation) and is NOT a deliberate model choice.
-- This transcript records the behaviour as it is today so that a fix
-- shows up as a golden diff; each case says what Oracle does instead.
-- Not part of the Hermitage matrix (tests/isolation.md).
--
-- 1. SET TRANSACTION outlives its transaction. In Oracle, SET TRANSACTION
--    ISOLATION LEVEL applies to the current transaction only; the next one
--    is READ COMMITTED again (a session-wide level is ALTER SESSION SET
--    ISOLATION_LEVEL). blocklab's SET TRANSACTION sets the session's level
--    (Session::set_isolation, "the isolation level of the next
--    transaction"), and COMMIT does not reset it: T1's second transaction
--    below, with no SET TRANSACTION, still reads as of its first
--    statement (1 => 11 twice; Oracle would show 1 => 12 the second time).
--
-- 2. SERIALIZABLE misses a conflict with a concurrent DELETE. T1's
--    snapshot sees row 2; T2 deletes row 2 and commits; T1's
--    `update ... where id = 2` then says "0 rows updated". Oracle raises
--    ORA-08177 (a row T1 is about to change was changed - deleted - by a
--    transaction that committed after T1 began; PostgreSQL REPEATABLE READ
--    likewise fails "due to concurrent delete"). Same when T1's update
--    first waits for T2's uncommitted delete. Cause: heap::lock_row
--    returns NoSuchRow for a deleted slot before its serializable check,
--    and update_query/delete_query (session/sqlops.rs) skip rows that
--    return NoSuchRow - the READ COMMITTED rule ("the row is gone") applied
--    under SERIALIZABLE too.
--
-- 3. A row moved by a concurrent update is skipped (READ COMMITTED, lost
--    update). T1's update grows row 1 so it no longer fits its block:
--    heap::update moves it (delete here, insert elsewhere: a new rowid,
--    "rows moved by update"). T2's `update m set n = n + 1 where id = 1`
--    waits for T1, then finds the old slot deleted (NoSuchRow) and skips
--    it: "0 rows updated", although row 1 still matches `id = 1`. T2's
--    increment is lost without an error. Oracle keeps the rowid of a
--    migrated row (the head piece forwards to the new block), so T2 would
--    update it (1 row updated, n = 1); PostgreSQL would follow the update
--    chain to the new version. Under SERIALIZABLE the same case gives
--    "0 rows updated" instead of ORA-08177 (as in 2).

create table test (id int not null primary key, value int);
insert into test (id, value) values (1, 10), (2, 20);
commit;

\echo ==== 1. SET TRANSACTION applies to the session, not one transaction ====
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
-- Oracle (READ COMMITTED): 1 => 12. blocklab (still SERIALIZABLE): 1 => 11.
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
-- Oracle: ORA-08177. blocklab: 0 rows updated.
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
-- Oracle: 1 row updated. blocklab: 0 rows updated.
\connect t2
commit;
\connect main
-- Oracle: n = 1. blocklab: n = 0 (T2's increment is lost).
select id, n, length(pad) from m where id = 1;
