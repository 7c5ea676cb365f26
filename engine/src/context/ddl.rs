//! DDL: tables, indexes, constraints and views. Each statement commits the open
//! transaction first, runs in a transaction of its own that also logs a
//! `Ddl` redo record (text, user, time), commits, and only then updates the
//! in-memory catalog, as Oracle's DDL does. Then it moves the table's
//! definition version on (`Schema::invalidate`), which invalidates every
//! cached plan that rests on the table.

use super::*;

impl Context {
    /// The end of a DDL statement's own transaction: committed when its
    /// work `r` succeeded (the caller then updates the in-memory catalog),
    /// rolled back when it failed.
    fn end_ddl<T>(&mut self, r: Result<T>) -> Result<T> {
        match r {
            Ok(v) => {
                self.commit()?;
                Ok(v)
            }
            Err(e) => {
                self.rollback()?;
                Err(e)
            }
        }
    }

    /// Creates a table (DDL commits the open transaction first, and itself).
    pub fn create_table(&mut self, name: &str, columns: &[Column]) -> Result<()> {
        self.commit()?;
        let name = name.to_ascii_lowercase();
        crate::catalog::check_table(&name, columns)?;
        if self.schema.catalog.read().tables.contains_key(&name) {
            return Err(Error::AlreadyExists {
                kind: "table",
                name,
            });
        }
        let r = self.statement(|s| {
            let core = s.core.clone();
            let schema = s.schema.clone();
            let id = schema.catalog.write().take_object_id();
            let seg = crate::space::create_segment(&core, &s.stats, id)?;
            let mut def = TableDef {
                id: TableId(id),
                name: name.clone(),
                seg,
                columns: columns.to_vec(),
                logging: true,
                catalog_rowid: RowId {
                    block: BlockNo(0),
                    slot: 0,
                },
            };
            s.log_ddl(&def.ddl())?;
            let txn = s
                .txn
                .as_mut()
                .ok_or_else(|| Error::Internal("no transaction".into()))?;
            def.catalog_rowid = heap::insert(
                &core,
                &s.stats,
                txn,
                CATALOG_SEG,
                &encode_row(&def.to_row()),
            )
            .map_err(|e| definition_error(e, &def))?;
            Ok(def)
        });
        let def = self.end_ddl(r)?;
        self.schema
            .catalog
            .write()
            .tables
            .insert(def.name.clone(), def.clone());
        self.schema.invalidate(&def.name);
        Ok(())
    }

    /// Creates (or, with `replace`, replaces) view `name` as `query` with
    /// optional column names. The caller has checked that the query binds.
    /// A view and a table cannot share a name (Oracle's ORA-00955).
    pub fn create_view(
        &mut self,
        name: &str,
        query: &str,
        columns: Option<Vec<String>>,
        replace: bool,
    ) -> Result<()> {
        self.commit()?;
        let name = name.to_ascii_lowercase();
        crate::catalog::check_name("view", &name)?;
        let old = {
            let cat = self.schema.catalog.read();
            if cat.tables.contains_key(&name) {
                return Err(Error::AlreadyExists {
                    kind: "table",
                    name,
                });
            }
            match cat.views.get(&name) {
                Some(_) if !replace => {
                    return Err(Error::AlreadyExists { kind: "view", name });
                }
                v => v.cloned(),
            }
        };
        let r = self.statement(|s| {
            let id = s.schema.catalog.write().take_object_id();
            let mut def = crate::catalog::ViewDef {
                id,
                name: name.clone(),
                query: query.to_string(),
                columns,
                catalog_rowid: RowId {
                    block: BlockNo(0),
                    slot: 0,
                },
            };
            s.log_ddl(&format!("CREATE OR REPLACE VIEW {name} AS {query}"))?;
            let (core, at, txn, stats) = s.dml_parts()?;
            if let Some(old) = &old {
                heap::delete(&core, stats, txn, at, CATALOG_SEG, old.catalog_rowid)?;
            }
            def.catalog_rowid =
                heap::insert(&core, stats, txn, CATALOG_SEG, &encode_row(&def.to_row())).map_err(
                    |e| match e {
                        Error::RowTooLarge { .. } => Error::Sql(format!(
                            "the definition of view {name} is too long to store in one block"
                        )),
                        e => e,
                    },
                )?;
            Ok(def)
        });
        let def = self.end_ddl(r)?;
        self.schema
            .catalog
            .write()
            .views
            .insert(def.name.clone(), def);
        self.schema.invalidate(&name);
        Ok(())
    }

    /// Drops view `name` (ORA-00942 when there is none).
    pub fn drop_view(&mut self, name: &str) -> Result<()> {
        self.commit()?;
        let name = name.to_ascii_lowercase();
        let def = self
            .schema
            .catalog
            .read()
            .views
            .get(&name)
            .cloned()
            .ok_or_else(|| Error::NoSuchObject {
                kind: "view",
                name: name.clone(),
            })?;
        let r = self.statement(|s| {
            s.log_ddl(&format!("DROP VIEW {name}"))?;
            let (core, at, txn, stats) = s.dml_parts()?;
            heap::delete(&core, stats, txn, at, CATALOG_SEG, def.catalog_rowid).map(|_| ())
        });
        self.end_ddl(r)?;
        self.schema.catalog.write().views.remove(&name);
        self.schema.invalidate(&name);
        Ok(())
    }

    /// Stores optimizer statistics (what `analyze` gathered) in the
    /// catalog, replacing the table's previous ones, and makes them the
    /// optimizer's: the second half of `ANALYZE TABLE`. DDL-like: commits
    /// first, logs `ANALYZE TABLE t` and writes the `stats` rows
    /// (`catalog::StoredStats`) in a transaction of its own, so they
    /// survive a restart and are in the redo like any DDL.
    pub fn store_stats(&mut self, st: &crate::analyze::TableStats) -> Result<()> {
        self.commit()?;
        let schema = self.schema.clone();
        let _writer = schema.stats.write_guard();
        let def = self.table(&st.table)?;
        let old = schema.catalog.read().stats.get(&def.name).cloned();
        let mut new = crate::catalog::StoredStats {
            table_id: def.id,
            table: def.name.clone(),
            json: st.to_json(),
            catalog_rowids: Vec::new(),
        };
        // What the restart will read back is what the optimizer uses from
        // now on (the stored form keeps 32 bytes of a long text value).
        let st = crate::analyze::TableStats::from_json(&new.json).map_err(Error::Internal)?;
        let r = self.statement(|s| {
            s.log_ddl(&format!("ANALYZE TABLE {}", def.name))?;
            let (core, at, txn, stats) = s.dml_parts()?;
            for rowid in old.iter().flat_map(|o| &o.catalog_rowids) {
                heap::delete(&core, stats, txn, at, CATALOG_SEG, *rowid)?;
            }
            // Room for the JSON in one row: the row's other values and
            // encoding take well under 64 bytes besides the table name.
            let max = heap::max_row_len(core.file.block_size(), core.cfg.initrans)
                .saturating_sub(64 + def.name.len());
            for row in new.to_rows(max) {
                let rowid = heap::insert(&core, stats, txn, CATALOG_SEG, &encode_row(&row))?;
                new.catalog_rowids.push(rowid);
            }
            Ok(())
        });
        self.end_ddl(r)?;
        schema.catalog.write().stats.insert(def.name.clone(), new);
        schema.stats.set(&def.name, Some(st));
        schema.invalidate(&def.name);
        Ok(())
    }

    /// Drops a table with its indexes, constraints and statistics (their
    /// segments' space is not reclaimed). A table that another table's
    /// foreign key references cannot be dropped (Oracle's ORA-02449).
    pub fn drop_table(&mut self, name: &str) -> Result<()> {
        self.commit()?;
        let schema = self.schema.clone();
        let _writer = schema.stats.write_guard();
        let def = self.table(name)?;
        let stored = schema.catalog.read().stats.get(&def.name).cloned();
        let (indexes, constraints) = {
            let cat = self.schema.catalog.read();
            if let Some(c) = cat.constraints.values().find(|c| {
                c.table != def.name
                    && matches!(&c.kind, constraint::ConstraintKind::ForeignKey { parent, .. } if *parent == def.name)
            }) {
                return Err(Error::Sql(format!(
                    "table {} is referenced by foreign key {} of table {}",
                    def.name, c.name, c.table
                )));
            }
            let constraints: Vec<ConstraintDef> = cat
                .constraints
                .values()
                .filter(|c| c.table == def.name)
                .cloned()
                .collect();
            (cat.indexes_of(&def.name), constraints)
        };
        let r = self.statement(|s| {
            s.log_ddl(&format!("DROP TABLE {}", def.name))?;
            let (core, at, txn, stats) = s.dml_parts()?;
            let rows = std::iter::once(def.catalog_rowid)
                .chain(indexes.iter().map(|i| i.catalog_rowid))
                .chain(constraints.iter().map(|c| c.catalog_rowid))
                .chain(
                    stored
                        .iter()
                        .flat_map(|st| st.catalog_rowids.iter().copied()),
                );
            for rowid in rows {
                heap::delete(&core, stats, txn, at, CATALOG_SEG, rowid)?;
            }
            Ok(())
        });
        self.end_ddl(r)?;
        let mut cat = self.schema.catalog.write();
        cat.tables.remove(&def.name);
        for i in &indexes {
            cat.indexes.remove(&i.name);
        }
        for c in &constraints {
            cat.constraints.remove(&c.name);
        }
        cat.stats.remove(&def.name);
        self.schema.stats.set(&def.name, None);
        drop(cat);
        self.schema.invalidate(&def.name);
        Ok(())
    }

    /// Logs a DDL marker (text, user, time) in the current transaction.
    fn log_ddl(&mut self, text: &str) -> Result<()> {
        self.ensure_txn()?;
        let xid = self.xid().unwrap_or(Xid::NONE);
        let core = self.core.clone();
        let mut h = core
            .cache
            .get_mut(undo_header(xid.segment()), &self.stats)?;
        let head = RecHead {
            kind: RecKind::Ddl,
            xid,
            text,
        };
        // The record needs a change vector to carry; re-stating the
        // transaction's own slot is a no-op change that keeps the format uniform.
        let txn = self
            .txn
            .as_ref()
            .ok_or_else(|| Error::Internal("no transaction".into()))?;
        let op = undo::tx_slot(&core, txn, TxState::Active, txn.start_scn, txn.last_uba);
        core.change(&self.stats, head, &mut [&mut h], |_| vec![op])?;
        Ok(())
    }

    /// Creates an index on `table` over `columns` (each ASC or DESC) and
    /// fills it from the table's rows (DDL: commits first, and itself).
    pub fn create_index(
        &mut self,
        name: &str,
        table: &str,
        columns: &[(&str, Order)],
    ) -> Result<()> {
        self.commit()?;
        let name = name.to_ascii_lowercase();
        crate::catalog::check_name("index", &name)?;
        let (def, _) = self.target(table)?;
        {
            let cat = self.schema.catalog.read();
            if cat.indexes.contains_key(&name) || cat.tables.contains_key(&name) {
                return Err(Error::AlreadyExists {
                    kind: "index",
                    name,
                });
            }
        }
        let mut cols = Vec::new();
        for &(c, order) in columns {
            let pos = def.column_index(c).ok_or_else(|| Error::NoSuchObject {
                kind: "column",
                name: format!("{}.{c}", def.name),
            })?;
            cols.push((pos, order));
        }
        if cols.is_empty() {
            return Err(Error::Config("an index needs at least one column".into()));
        }
        let r = self.statement(|s| {
            let core = s.core.clone();
            let schema = s.schema.clone();
            let id = schema.catalog.write().take_object_id();
            let tree = crate::btree::tree::create(&core, &s.stats, id)?;
            let mut ix = IndexDef {
                id,
                name: name.clone(),
                table: def.name.clone(),
                tree,
                columns: cols,
                usable: true,
                catalog_rowid: RowId {
                    block: BlockNo(0),
                    slot: 0,
                },
            };
            let spec = columns
                .iter()
                .map(|(c, o)| format!("{c}{}", if *o == Order::Desc { " DESC" } else { "" }))
                .collect::<Vec<_>>()
                .join(", ");
            s.log_ddl(&format!("CREATE INDEX {name} ON {} ({spec})", def.name))?;
            let (core, at, txn, stats) = s.dml_parts()?;
            let rows = heap::scan_rows(&core, stats, at.snap, def.seg, |_| true)?;
            for (rowid, row) in &rows {
                crate::btree::tree::insert(
                    &core,
                    stats,
                    txn,
                    tree,
                    &ix.entry_key(&def, row, *rowid),
                    *rowid,
                )?;
            }
            ix.catalog_rowid = heap::insert(
                &core,
                stats,
                txn,
                CATALOG_SEG,
                &encode_row(&ix.to_row(&def)),
            )?;
            Ok(ix)
        });
        let ix = self.end_ddl(r)?;
        self.schema
            .catalog
            .write()
            .indexes
            .insert(ix.name.clone(), ix);
        self.schema.invalidate(&def.name);
        Ok(())
    }

    /// `CREATE UNIQUE INDEX`: an index plus a UNIQUE constraint of the same
    /// name on its columns, enforced through it.
    pub fn create_unique_index(
        &mut self,
        name: &str,
        table: &str,
        columns: &[(&str, Order)],
    ) -> Result<()> {
        self.create_index(name, table, columns)?;
        let cols: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
        let spec = ConstraintSpec::Unique {
            columns: &cols,
            index: name,
        };
        if let Err(e) = self.add_constraint(table, name, spec) {
            // The rows are not unique: the index goes again.
            self.drop_index(name)?;
            return Err(e);
        }
        Ok(())
    }

    /// Drops an index that no constraint uses (its segment's space is not
    /// reclaimed).
    pub fn drop_index(&mut self, index: &str) -> Result<()> {
        self.commit()?;
        let ix = self.schema.catalog.read().index(index)?.clone();
        if let Some(c) = self
            .schema
            .catalog
            .read()
            .constraints
            .values()
            .find(|c| c.unique_index().is_some_and(|(i, _)| i == ix.name))
        {
            return Err(Error::Config(format!(
                "index {} enforces constraint {}",
                ix.name, c.name
            )));
        }
        let r = self.statement(|s| {
            s.log_ddl(&format!("DROP INDEX {}", ix.name))?;
            let (core, at, txn, stats) = s.dml_parts()?;
            heap::delete(&core, stats, txn, at, CATALOG_SEG, ix.catalog_rowid).map(|_| ())
        });
        self.end_ddl(r)?;
        self.schema.catalog.write().indexes.remove(&ix.name);
        self.schema.invalidate(&ix.table);
        Ok(())
    }

    /// Marks an index unusable (`ALTER INDEX … UNUSABLE`): DML stops
    /// maintaining it and queries cannot use it until it is rebuilt. DML on
    /// the table is refused while the index enforces a key constraint.
    pub fn alter_index_unusable(&mut self, index: &str) -> Result<()> {
        let ix = self.schema.catalog.read().index(index)?.clone();
        self.replace_index(ix, "UNUSABLE", |_, _, ix| {
            Ok(IndexDef {
                usable: false,
                ..ix.clone()
            })
        })
    }

    /// Rebuilds an index in bulk (`ALTER INDEX … REBUILD`): the table is
    /// read once, the keys sorted, and a new tree built bottom-up in a new
    /// segment; the catalog then points at it (the old segment's space is
    /// not reclaimed). Much cheaper than maintaining the index row by row
    /// during a load (claim C12).
    pub fn rebuild_index(&mut self, index: &str) -> Result<()> {
        let ix = self.schema.catalog.read().index(index)?.clone();
        self.replace_index(ix, "REBUILD", |s, at, ix| {
            let (def, _) = s.target(&ix.table)?;
            let rows = heap::scan_rows(&s.core, &s.stats, at.snap, def.seg, |_| true)?;
            let entries = rows
                .iter()
                .map(|(r, row)| (ix.entry_key(&def, row, *r), *r))
                .collect();
            let tree = crate::btree::tree::build(&s.core, &s.stats, ix.id, entries)?;
            Ok(IndexDef {
                tree,
                usable: true,
                ..ix.clone()
            })
        })
    }

    /// DDL that rewrites an index's catalog row: logs `ALTER INDEX name
    /// <what>`, replaces the row with `change(..)`'s definition, commits.
    fn replace_index(
        &mut self,
        ix: IndexDef,
        what: &str,
        change: impl FnOnce(&mut Context, ReadPoint, &IndexDef) -> Result<IndexDef>,
    ) -> Result<()> {
        self.commit()?;
        let r = self.statement(|s| {
            s.log_ddl(&format!("ALTER INDEX {} {what}", ix.name))?;
            let at = s.dml_parts()?.1;
            let mut new = change(s, at, &ix)?;
            let (def, _) = s.target(&ix.table)?;
            let (core, at, txn, stats) = s.dml_parts()?;
            let row = encode_row(&new.to_row(&def));
            new.catalog_rowid =
                heap::update(&core, stats, txn, at, CATALOG_SEG, ix.catalog_rowid, |_| {
                    Ok(Some(row))
                })?
                .ok_or_else(|| Error::Internal("catalog row update declined".into()))?;
            Ok(new)
        });
        let new = self.end_ddl(r)?;
        self.schema
            .catalog
            .write()
            .indexes
            .insert(new.name.clone(), new.clone());
        self.schema.invalidate(&new.table);
        Ok(())
    }

    /// `ALTER TABLE … LOGGING | NOLOGGING`: whether direct-path loads into
    /// the table log their block images (conventional DML always logs).
    pub fn set_table_logging(&mut self, table: &str, logging: bool) -> Result<()> {
        let def = self.table(table)?;
        let what = if logging { "LOGGING" } else { "NOLOGGING" };
        let ddl = format!("ALTER TABLE {} {what}", def.name);
        let new = TableDef {
            logging,
            ..def.clone()
        };
        self.alter_table_def(def, new, &ddl, None)
    }

    /// `ALTER TABLE t ADD COLUMN c`: the column is appended (nullable), and
    /// every existing row is rewritten with a NULL for it in the same DDL
    /// transaction, so that every row image has one value per column.
    pub fn add_column(&mut self, table: &str, column: Column) -> Result<()> {
        let def = self.table(table)?;
        if column.not_null {
            return Err(Error::Sql(format!(
                "cannot add NOT NULL column {} to {}: existing rows would have NULL",
                column.name, def.name
            )));
        }
        if def.column_index(&column.name).is_some() {
            return Err(Error::AlreadyExists {
                kind: "column",
                name: format!("{}.{}", def.name, column.name),
            });
        }
        let ddl = format!(
            "ALTER TABLE {} ADD COLUMN {} {}",
            def.name,
            column.name,
            column.ty.name()
        );
        let mut new = def.clone();
        new.columns.push(column);
        crate::catalog::check_table(&new.name, &new.columns)?;
        let width = new.columns.len();
        let pad = move |r: &Row| {
            let mut r = r.clone();
            r.resize(width, Value::Null);
            r
        };
        self.alter_table_def(def, new, &ddl, Some(&pad))
    }

    /// `ALTER TABLE t DROP COLUMN c`, done as Oracle's `SET UNUSED`: the
    /// column leaves the definition at once (queries and inserts no longer
    /// see it; its name is free again) while its values stay in the row
    /// images, so no row is rewritten and other columns keep their
    /// positions. Indexes on the column are dropped with it; a constraint
    /// on it must be dropped first.
    pub fn drop_column(&mut self, table: &str, column: &str) -> Result<()> {
        let def = self.table(table)?;
        let pos = def
            .column_index(column)
            .ok_or_else(|| Error::NoSuchObject {
                kind: "column",
                name: format!("{}.{column}", def.name),
            })?;
        if def.visible_columns().count() == 1 {
            return Err(Error::Sql(format!(
                "cannot drop the only column of {}",
                def.name
            )));
        }
        if let Some(c) = self
            .schema
            .catalog
            .read()
            .constraints
            .values()
            .find(|c| c.table == def.name && c.columns().contains(&pos))
        {
            return Err(Error::Sql(format!(
                "column {column} is used by constraint {}: drop the constraint first",
                c.name
            )));
        }
        let on_col: Vec<String> = self
            .schema
            .catalog
            .read()
            .indexes_of(&def.name)
            .into_iter()
            .filter(|i| i.columns.iter().any(|&(c, _)| c == pos))
            .map(|i| i.name)
            .collect();
        for ix in on_col {
            self.drop_index(&ix)?;
        }
        let ddl = format!(
            "ALTER TABLE {} DROP COLUMN {}",
            def.name, def.columns[pos].name
        );
        let mut new = def.clone();
        let col = &mut new.columns[pos];
        col.name = format!("{}$unused{}", col.name, pos);
        col.not_null = false;
        col.hidden = true;
        self.alter_table_def(def, new, &ddl, None)
    }

    /// Replaces `def` by `new` in the catalog (DDL `ddl`), rewriting every
    /// row through `rewrite` if given, in one DDL transaction.
    fn alter_table_def(
        &mut self,
        def: TableDef,
        new: TableDef,
        ddl: &str,
        rewrite: Option<&dyn Fn(&Row) -> Row>,
    ) -> Result<()> {
        self.commit()?;
        let schema = self.schema.clone();
        let r = self.statement(|s| {
            s.lock_table(&def, true)?;
            s.log_ddl(ddl)?;
            let (core, at, txn, stats) = s.dml_parts()?;
            let row = encode_row(&new.to_row());
            let rowid = heap::update(
                &core,
                stats,
                txn,
                at,
                CATALOG_SEG,
                def.catalog_rowid,
                |_| Ok(Some(row)),
            )
            .map_err(|e| definition_error(e, &new))?
            .ok_or_else(|| Error::Internal("catalog row update declined".into()))?;
            if let Some(f) = rewrite {
                let mut rules = schema.catalog.read().rules(&def.name)?;
                rules.def = new.clone();
                for (rid, _) in heap::scan_rows(&core, stats, at.snap, def.seg, |_| true)? {
                    dml::update_row(&core, stats, txn, at, &rules, rid, |cur| Ok(Some(f(cur))))?;
                }
            }
            Ok(TableDef {
                catalog_rowid: rowid,
                ..new
            })
        });
        let new = self.end_ddl(r)?;
        self.schema
            .catalog
            .write()
            .tables
            .insert(new.name.clone(), new.clone());
        self.schema.invalidate(&new.name);
        Ok(())
    }

    /// Adds a constraint to `table` after checking that every row satisfies
    /// it (DDL: commits first, and itself). A PRIMARY KEY or UNIQUE
    /// constraint is enforced through an existing index on `table` whose
    /// leading columns are the constraint's, unique or not; a FOREIGN KEY
    /// looks its parent up through the parent's PRIMARY KEY or UNIQUE index.
    pub fn add_constraint(
        &mut self,
        table: &str,
        name: &str,
        spec: ConstraintSpec<'_>,
    ) -> Result<()> {
        self.commit()?;
        let name = name.to_ascii_lowercase();
        crate::catalog::check_name("constraint", &name)?;
        let (cdef, ddl) = {
            let cat = self.schema.catalog.read();
            if cat.constraints.contains_key(&name) {
                return Err(Error::AlreadyExists {
                    kind: "constraint",
                    name,
                });
            }
            constraint::define(&cat, table, &name, spec)?
        };
        let schema = self.schema.clone();
        let r = self.statement(|s| {
            s.log_ddl(&ddl)?;
            let (core, at, txn, stats) = s.dml_parts()?;
            constraint::validate(&core, stats, at.snap, &schema.catalog.read(), &cdef)?;
            let rowid = heap::insert(&core, stats, txn, CATALOG_SEG, &encode_row(&cdef.to_row()))?;
            Ok(ConstraintDef {
                catalog_rowid: rowid,
                ..cdef
            })
        });
        let c = self.end_ddl(r)?;
        self.schema
            .catalog
            .write()
            .constraints
            .insert(c.name.clone(), c.clone());
        self.schema.invalidate(&c.table);
        Ok(())
    }
}

/// A definition row too large for a catalog block, said as such rather
/// than as a row that does not fit.
fn definition_error(e: Error, def: &TableDef) -> Error {
    match e {
        Error::RowTooLarge { size, max } => {
            crate::catalog::definition_too_large(&def.name, def.columns.len(), size, max)
        }
        e => e,
    }
}
