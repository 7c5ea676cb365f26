-- Isolation matrix (Hermitage, github.com/ept/hermitage): G0, write cycles.
--
-- Anomaly: two transactions overwrite each other's uncommitted writes, so
-- the final state mixes them (row 1 from one, row 2 from the other): the
-- write-write dependencies form a cycle.
--
-- Oracle 11.2 (Hermitage oracle.md):
--   READ COMMITTED  prevented: row locks; T2's update of row 1 blocks
--                   until T1 commits, so T2's writes all come after T1's.
--   SERIALIZABLE    no Hermitage test (n/a).
-- blocklab:
--   READ COMMITTED  prevented, same as Oracle: T2 waits for T1's row lock;
--                   the final state is 1 => 12, 2 => 22 (all T2's).
--
-- Setup as in Hermitage; `main` creates the table, t1/t2 are the
-- transactions. Every transaction starts with its own SET TRANSACTION.

create table test (id int not null primary key, value int);
insert into test (id, value) values (1, 10), (2, 20);
commit;

\echo ==== G0, READ COMMITTED (Oracle: prevented) ====
\connect t1
set transaction isolation level read committed;
\connect t2
set transaction isolation level read committed;
\connect t1
update test set value = 11 where id = 1;
-- T2 blocks on T1's row lock.
\connect t2
update test set value = 12 where id = 1;
\connect t1
update test set value = 21 where id = 2;
-- Commit unblocks T2.
commit;
\wait t2
-- Shows 1 => 11, 2 => 21.
select * from test order by id;
commit;
\connect t2
update test set value = 22 where id = 2;
commit;
\connect main
-- Shows 1 => 12, 2 => 22.
select * from test order by id;
