-- Isolation matrix (Hermitage, github.com/ept/hermitage): G-single, read
-- skew (single anti-dependency cycle).
--
-- Anomaly: T1 reads row 1, T2 then changes rows 1 and 2 and commits, and
-- T1 reads row 2: T1 sees row 1 before T2 and row 2 after T2, a state
-- that never existed (10 + 18 instead of 10 + 20 or 12 + 18).
--
-- Oracle 11.2 (Hermitage oracle.md):
--   READ COMMITTED  allowed: T1 sees 1 => 10, then 2 => 18.
--   SERIALIZABLE    prevented: T1 sees 1 => 10, then 2 => 20 (both as of
--                   its snapshot). Also prevented with predicate
--                   dependencies (T1's `mod(value, 3) = 0` query still
--                   returns nothing after T2 changed 10 to 12) and with a
--                   write predicate (T1's `delete ... where value = 20`
--                   gets ORA-08177: row 2 changed after T1's snapshot).
-- blocklab:
--   READ COMMITTED  allowed, same as Oracle.
--   SERIALIZABLE    prevented, same as Oracle, in all three variants.

create table test (id int not null primary key, value int);
insert into test (id, value) values (1, 10), (2, 20);
commit;

\echo ==== G-single, READ COMMITTED (Oracle: allowed) ====
\connect t1
set transaction isolation level read committed;
\connect t2
set transaction isolation level read committed;
\connect t1
-- Shows 1 => 10.
select * from test where id = 1;
\connect t2
select * from test where id = 1;
select * from test where id = 2;
update test set value = 12 where id = 1;
update test set value = 18 where id = 2;
commit;
\connect t1
-- Shows 2 => 18.
select * from test where id = 2;
commit;

\echo ==== G-single, SERIALIZABLE (Oracle: prevented) ====
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
-- Shows 1 => 10.
select * from test where id = 1;
\connect t2
select * from test where id = 1;
select * from test where id = 2;
update test set value = 12 where id = 1;
update test set value = 18 where id = 2;
commit;
\connect t1
-- Shows 2 => 20.
select * from test where id = 2;
commit;

\echo ==== G-single predicate dependencies, SERIALIZABLE (Oracle: prevented) ====
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
select * from test where mod(value, 5) = 0 order by id;
\connect t2
update test set value = 12 where value = 10;
commit;
\connect t1
-- Returns nothing.
select * from test where mod(value, 3) = 0;
commit;

\echo ==== G-single write predicate, SERIALIZABLE (Oracle: prevented, ORA-08177) ====
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
-- Shows 1 => 10.
select * from test where id = 1;
\connect t2
select * from test order by id;
update test set value = 12 where id = 1;
update test set value = 18 where id = 2;
commit;
\connect t1
-- ORA-08177: row 2 (20 in T1's snapshot) changed after T1 began.
delete from test where value = 20;
rollback;
