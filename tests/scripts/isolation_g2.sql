-- Isolation matrix (Hermitage, github.com/ept/hermitage): G2,
-- anti-dependency cycles.
--
-- Anomaly: each transaction misses the other's write (an anti-dependency,
-- "read before the other's write", in both directions), so no serial
-- order explains what they read. In the predicate form T1 and T2 each
-- query a predicate, then each inserts a row matching the other's
-- predicate, and both commit. Fekete et al.'s example needs no predicate:
-- T1 reads, T2 changes row 2 and commits, T3 reads (sees T2's change but
-- not T1's) and commits, then T1 writes row 1.
--
-- Oracle 11.2 (Hermitage oracle.md):
--   READ COMMITTED           allowed: both inserts commit.
--   SERIALIZABLE, same       Hermitage saw ORA-08177 for T2's insert once
--   predicate (mod 3)        but could not reproduce it: not counted (the
--                            usual outcome is: allowed).
--   SERIALIZABLE, general    allowed (mod 3 / mod 5 predicates): both
--   (mod 3 / mod 5)          inserts commit.
--   SERIALIZABLE, Fekete     prevented: T1's update of row 1 gets
--                            ORA-08177.
-- blocklab:
--   READ COMMITTED           allowed, same as Oracle.
--   SERIALIZABLE, same       allowed: both inserts commit (snapshot
--   predicate                isolation has no predicate or read checks).
--   SERIALIZABLE, general    allowed, same as Oracle.
--   SERIALIZABLE, Fekete     ALLOWED, unlike Oracle: T1's update of row 1
--                            succeeds and T1 commits.
--
-- Why the Fekete case differs. Nobody changed row 1 after T1's snapshot,
-- so under snapshot isolation (first-updater-wins on the same row) there
-- is no conflict, and blocklab checks exactly that: heap::lock_row
-- compares the row version T1's snapshot sees with the version it locks.
-- Oracle's ORA-08177 here is most likely not a row conflict either:
-- Oracle documents that it decides whether a row changed since the
-- snapshot from the transaction history kept in the row's block (its
-- ITL), and that with too little history it can raise ORA-08177 for a row
-- that did not change (hence its advice of a higher INITRANS for
-- serializable workloads). T2 had changed row 2, in the same block, after
-- T1's snapshot, so Oracle's coarser check happens to break this cycle. blocklab has a block-level failure too, but
-- only when a full block forces it to reuse an ITL entry committed after
-- the snapshot (txn::itl::acquire_itl), which a two-row table never hits.
-- Oracle's unreproducible ORA-08177 on the concurrent inserts is likely
-- the same kind of block-level (ITL, index leaf) effect.

create table test (id int not null primary key, value int);
insert into test (id, value) values (1, 10), (2, 20);
commit;

\echo ==== G2, READ COMMITTED (Oracle: allowed) ====
\connect t1
set transaction isolation level read committed;
\connect t2
set transaction isolation level read committed;
\connect t1
select * from test where mod(value, 3) = 0;
\connect t2
select * from test where mod(value, 3) = 0;
\connect t1
insert into test (id, value) values (3, 30);
\connect t2
insert into test (id, value) values (4, 42);
\connect t1
commit;
\connect t2
commit;
\connect t1
-- Returns 3 => 30, 4 => 42.
select * from test where mod(value, 3) = 0 order by id;
commit;

\echo ==== G2 same predicate, SERIALIZABLE (Oracle: ORA-08177 once, not reproducible) ====
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
select * from test where mod(value, 3) = 0;
\connect t2
select * from test where mod(value, 3) = 0;
\connect t1
insert into test (id, value) values (3, 30);
\connect t2
insert into test (id, value) values (4, 42);
\connect t1
commit;
\connect t2
commit;
\connect t1
-- blocklab returns 3 => 30, 4 => 42.
select * from test where mod(value, 3) = 0 order by id;
commit;

\echo ==== G2, SERIALIZABLE (Oracle: allowed) ====
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
select * from test where mod(value, 3) = 0;
\connect t2
select * from test where mod(value, 5) = 0 order by id;
\connect t1
insert into test (id, value) values (3, 30);
\connect t2
insert into test (id, value) values (4, 60);
\connect t1
commit;
\connect t2
commit;
\connect t1
-- Returns 3 => 30, 4 => 60.
select * from test where mod(value, 3) = 0 order by id;
commit;

\echo ==== G2 Fekete, SERIALIZABLE (Oracle: prevented, ORA-08177; blocklab: allowed) ====
\connect main
drop table test;
create table test (id int not null primary key, value int);
insert into test (id, value) values (1, 10), (2, 20);
commit;
\connect t1
set transaction isolation level serializable;
-- Shows 1 => 10, 2 => 20.
select * from test order by id;
\connect t2
set transaction isolation level serializable;
update test set value = value + 5 where id = 2;
commit;
\connect t3
set transaction isolation level serializable;
-- Shows 1 => 10, 2 => 25.
select * from test order by id;
commit;
\connect t1
-- Oracle: ORA-08177. blocklab: 1 row updated.
update test set value = 0 where id = 1;
-- Hermitage rolls back after Oracle's error; blocklab's T1 commits, which
-- closes the cycle: T1 read 2 => 20 (T1 before T2), T3 read 2 => 25 and
-- 1 => 10 (T2 before T3 before T1).
commit;
\connect main
-- Final state: 1 => 0, 2 => 25.
select * from test order by id;
