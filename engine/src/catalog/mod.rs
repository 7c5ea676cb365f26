//! The catalog: table definitions, stored in a table of their own.
//!
//! The catalog segment (header at block 2) is an ordinary heap segment whose
//! rows describe tables: `(id, name, segment header block, column list)`.
//! DDL changes it through the same transactional path as any DML, inside a
//! transaction that also logs a `Ddl` redo record carrying the statement
//! text, the session user and the time — so DDL is in the redo like data.
//! The in-memory [`Catalog`] is a cache rebuilt from those rows at open and
//! updated when a DDL transaction commits.
//!
//! Column list encoding (a TEXT value): `name:TYPE[:nn],...`.
//!
//! Row kinds (the fifth value): `table`, `index`, `constraint`, `view`
//! (`(view id, name, 0, the query's text, "view")`, [`ViewDef`]), and
//! `stats` — the optimizer statistics of one table as `ANALYZE TABLE`
//! stored them ([`StoredStats`]): `(table id, table name, part, JSON text,
//! "stats")`. The JSON (`optstats::TableStats::to_json`) normally fits one
//! row; when it does not fit a block it is cut into parts 0, 1, … of one
//! row each, read back in part order.
//!
//! Limits, checked by every DDL call before anything is written, each
//! named in its error: a name (table, column, index, constraint) has at
//! most [`MAX_NAME_LEN`] characters (Oracle 12.2's 128), a table at most
//! [`MAX_COLUMNS`] columns (Oracle's 1000; dropped columns count, as
//! Oracle's unused ones do). A table's definition is one catalog row, so
//! a wide table with long names can still be refused below the column
//! limit, when its definition does not fit in one block
//! ([`definition_too_large`] says so).
//!
//! [`views`] shows the catalog and the stored statistics as Oracle's
//! `user_tables`, `user_indexes`, `user_ind_columns` and `user_tab_columns`.

use std::collections::BTreeMap;

pub mod constraint_def;
pub mod table_stats;
pub mod views;

use crate::btree::key::{append_rowid, encode_key, KeyColumn, Order};
use crate::btree::tree::Tree;
use crate::error::{Error, Result};
use crate::ids::{BlockNo, RowId, TableId};
use crate::value::{ColType, Column, Row, Value};
use constraint_def::{ConstraintDef, ConstraintKind, Rules};

/// The longest name of a table, column, index or constraint, in characters.
pub const MAX_NAME_LEN: usize = 128;

/// The most columns a table may have, dropped ones included.
pub const MAX_COLUMNS: usize = 1000;

/// Checks a new object's name against [`MAX_NAME_LEN`].
pub fn check_name(kind: &str, name: &str) -> Result<()> {
    let n = name.chars().count();
    if n > MAX_NAME_LEN {
        let head: String = name.chars().take(24).collect();
        return Err(Error::Sql(format!(
            "{kind} name {head}… is {n} characters long (limit {MAX_NAME_LEN})"
        )));
    }
    if n == 0 {
        return Err(Error::Sql(format!("a {kind} name cannot be empty")));
    }
    Ok(())
}

/// Checks a table's name, its column names and its column count against
/// [`MAX_NAME_LEN`] and [`MAX_COLUMNS`].
pub fn check_table(name: &str, columns: &[Column]) -> Result<()> {
    check_name("table", name)?;
    if columns.len() > MAX_COLUMNS {
        return Err(Error::Sql(format!(
            "table {name} would have {} columns (limit {MAX_COLUMNS})",
            columns.len()
        )));
    }
    columns
        .iter()
        .try_for_each(|c| check_name("column", &c.name))
}

/// The error for a definition row larger than a catalog block: what was
/// asked, and what to change.
pub fn definition_too_large(table: &str, columns: usize, size: usize, max: usize) -> Error {
    Error::Sql(format!(
        "the definition of table {table} ({columns} columns) takes {size} bytes, more than one catalog block holds ({max}): use fewer columns or shorter names"
    ))
}

/// A table's definition.
#[derive(Clone, Debug, PartialEq)]
pub struct TableDef {
    pub id: TableId,
    pub name: String,
    pub seg: BlockNo,
    pub columns: Vec<Column>,
    /// LOGGING (true) or NOLOGGING: whether a direct-path load logs its
    /// block images. Conventional DML always logs.
    pub logging: bool,
    /// Where the definition row lives in the catalog segment.
    pub catalog_rowid: RowId,
}

impl TableDef {
    /// Checks a row against the definition; INTEGER values are accepted
    /// for REAL columns and converted.
    pub fn check_row(&self, mut row: Row) -> Result<Row> {
        let bad = |reason: String| Error::InvalidRow {
            table: self.name.clone(),
            reason,
        };
        if row.len() != self.columns.len() {
            return Err(Error::ValueCount {
                table: self.name.clone(),
                values: row.len(),
                columns: self.columns.len(),
            });
        }
        for (v, c) in row.iter_mut().zip(&self.columns) {
            match (c.ty, &*v) {
                (_, Value::Null) if c.not_null => {
                    return Err(bad(format!(
                        "NOT NULL constraint on column {} violated",
                        c.name
                    )));
                }
                (_, Value::Null)
                | (ColType::Integer, Value::Int(_))
                | (ColType::Real, Value::Real(_))
                | (ColType::Text, Value::Text(_)) => {}
                (ColType::Real, Value::Int(i)) => *v = Value::Real(*i as f64),
                (ty, v) => {
                    return Err(bad(format!(
                        "column {} is {}, got {v:?}",
                        c.name,
                        ty.name()
                    )))
                }
            }
        }
        Ok(row)
    }

    /// The position of a visible column.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| !c.hidden && c.name.eq_ignore_ascii_case(name))
    }

    /// The columns statements see (all but dropped ones), with positions.
    pub fn visible_columns(&self) -> impl Iterator<Item = (usize, &Column)> {
        self.columns.iter().enumerate().filter(|(_, c)| !c.hidden)
    }

    /// The catalog row describing this table.
    pub(crate) fn to_row(&self) -> Row {
        let cols = self
            .columns
            .iter()
            .map(|c| {
                format!(
                    "{}:{}{}",
                    c.name,
                    c.ty.name(),
                    if c.hidden {
                        ":hidden"
                    } else if c.not_null {
                        ":nn"
                    } else {
                        ""
                    }
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        vec![
            Value::Int(self.id.0 as i64),
            Value::Text(self.name.clone()),
            Value::Int(self.seg.0 as i64),
            Value::Text(cols),
            Value::Text("table".into()),
            Value::Int(i64::from(self.logging)),
        ]
    }

    pub(crate) fn from_row(row: &Row, rowid: RowId) -> std::result::Result<TableDef, String> {
        let (id, name, seg, cols, logging) = match row.as_slice() {
            [Value::Int(id), Value::Text(name), Value::Int(seg), Value::Text(cols)] => {
                (id, name, seg, cols, true)
            }
            [Value::Int(id), Value::Text(name), Value::Int(seg), Value::Text(cols), _, Value::Int(l)] => {
                (id, name, seg, cols, *l != 0)
            }
            _ => return Err(format!("malformed catalog row {row:?}")),
        };
        let mut columns = Vec::new();
        for spec in cols.split(',').filter(|s| !s.is_empty()) {
            let parts: Vec<&str> = spec.split(':').collect();
            let ty = match parts.get(1).copied() {
                Some("INTEGER") => ColType::Integer,
                Some("REAL") => ColType::Real,
                Some("TEXT") => ColType::Text,
                other => return Err(format!("bad column type {other:?} in catalog")),
            };
            columns.push(Column {
                name: parts[0].to_string(),
                ty,
                not_null: parts.get(2) == Some(&"nn"),
                hidden: parts.get(2) == Some(&"hidden"),
            });
        }
        Ok(TableDef {
            id: TableId(*id as u32),
            name: name.clone(),
            seg: BlockNo(*seg as u32),
            columns,
            logging,
            catalog_rowid: rowid,
        })
    }

    /// `CREATE TABLE` text for this definition (what the redo records).
    pub fn ddl(&self) -> String {
        let cols = self
            .columns
            .iter()
            .filter(|c| !c.hidden)
            .map(|c| {
                format!(
                    "{} {}{}",
                    c.name,
                    c.ty.name(),
                    if c.not_null { " NOT NULL" } else { "" }
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        format!("CREATE TABLE {} ({cols})", self.name)
    }
}

/// An index's definition.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexDef {
    pub id: u32,
    pub name: String,
    pub table: String,
    pub tree: Tree,
    /// Table column positions, in index order, each ASC or DESC.
    pub columns: Vec<(usize, Order)>,
    /// An unusable index is not maintained by DML and cannot be read until
    /// it is rebuilt (claim C12).
    pub usable: bool,
    pub catalog_rowid: RowId,
}

impl IndexDef {
    /// The key columns' types and orders, for the key encoding.
    pub fn key_columns(&self, table: &TableDef) -> Vec<KeyColumn> {
        self.columns
            .iter()
            .map(|&(c, order)| KeyColumn {
                ty: table.columns[c].ty,
                order,
            })
            .collect()
    }

    /// The index entry key of a table row: the indexed values, then the
    /// rowid (every index is non-unique for now, so keys are unique by rowid).
    pub fn entry_key(&self, table: &TableDef, row: &[Value], rowid: RowId) -> Vec<u8> {
        let vals: Vec<Value> = self.columns.iter().map(|&(c, _)| row[c].clone()).collect();
        let mut k = Vec::new();
        encode_key(&self.key_columns(table), &vals, &mut k);
        append_rowid(&mut k, rowid);
        k
    }

    pub(crate) fn to_row(&self, table: &TableDef) -> Row {
        let cols = self
            .columns
            .iter()
            .map(|&(c, o)| {
                format!(
                    "{}:{}",
                    table.columns[c].name,
                    if o == Order::Asc { "ASC" } else { "DESC" }
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        vec![
            Value::Int(self.id as i64),
            Value::Text(self.name.clone()),
            Value::Int(self.tree.seg.0 as i64),
            Value::Text(format!(
                "table={};root={};cols={cols};usable={}",
                self.table,
                self.tree.root.0,
                u8::from(self.usable)
            )),
            Value::Text("index".into()),
        ]
    }

    fn from_row(
        row: &Row,
        rowid: RowId,
        tables: &BTreeMap<String, TableDef>,
    ) -> std::result::Result<IndexDef, String> {
        let [Value::Int(id), Value::Text(name), Value::Int(seg), Value::Text(spec), _] =
            row.as_slice()
        else {
            return Err(format!("malformed catalog row {row:?}"));
        };
        let field = |k: &str| {
            spec.split(';')
                .find_map(|p| p.strip_prefix(k).and_then(|r| r.strip_prefix('=')))
                .ok_or_else(|| format!("index {name}: no {k} in {spec:?}"))
        };
        let table = field("table")?.to_string();
        let root: u32 = field("root")?
            .parse()
            .map_err(|e| format!("index {name}: bad root: {e}"))?;
        let def = tables
            .get(&table)
            .ok_or_else(|| format!("index {name} on missing table {table}"))?;
        let mut columns = Vec::new();
        for c in field("cols")?.split(',') {
            let (col, ord) = c
                .split_once(':')
                .ok_or_else(|| format!("index {name}: bad column {c:?}"))?;
            let pos = def
                .column_index(col)
                .ok_or_else(|| format!("index {name}: no column {col}"))?;
            columns.push((
                pos,
                if ord == "DESC" {
                    Order::Desc
                } else {
                    Order::Asc
                },
            ));
        }
        Ok(IndexDef {
            id: *id as u32,
            name: name.clone(),
            table,
            tree: Tree {
                seg: BlockNo(*seg as u32),
                root: BlockNo(root),
            },
            columns,
            usable: !matches!(field("usable"), Ok("0")),
            catalog_rowid: rowid,
        })
    }
}

/// A view: a named query, stored as its text and merged into each query
/// that names it (`sql::view`).
#[derive(Clone, Debug, PartialEq)]
pub struct ViewDef {
    /// An object id of its own (never reused): a new one each time the
    /// view is (re)created.
    pub id: u32,
    pub name: String,
    /// The query, as written after `AS`.
    pub query: String,
    /// The column names given after the view's name, if any.
    pub columns: Option<Vec<String>>,
    pub catalog_rowid: RowId,
}

impl ViewDef {
    /// Its catalog row: `(id, name, column list or NULL, query, "view")`.
    pub(crate) fn to_row(&self) -> Row {
        vec![
            Value::Int(i64::from(self.id)),
            Value::Text(self.name.clone()),
            match &self.columns {
                Some(c) => Value::Text(c.join(",")),
                None => Value::Null,
            },
            Value::Text(self.query.clone()),
            Value::Text("view".into()),
        ]
    }

    fn from_row(row: &Row, rowid: RowId) -> std::result::Result<ViewDef, String> {
        let [Value::Int(id), Value::Text(name), cols, Value::Text(query), _] = row.as_slice()
        else {
            return Err(format!("malformed catalog row {row:?}"));
        };
        let columns = match cols {
            Value::Text(c) => Some(c.split(',').map(str::to_string).collect()),
            _ => None,
        };
        Ok(ViewDef {
            id: *id as u32,
            name: name.clone(),
            query: query.clone(),
            columns,
            catalog_rowid: rowid,
        })
    }
}

/// The stored optimizer statistics of one table (its `stats` rows).
#[derive(Clone, Debug, PartialEq)]
pub struct StoredStats {
    /// The table they describe; its id too, so that rows describing an
    /// older table of the same name could never be taken for this one's.
    pub table_id: TableId,
    pub table: String,
    /// `optstats::TableStats::to_json`, the parts put back together.
    pub json: String,
    /// Where the parts live in the catalog segment, in part order.
    pub catalog_rowids: Vec<RowId>,
}

impl StoredStats {
    /// The catalog rows holding the JSON text, each at most `max_text`
    /// bytes of it (cut at character boundaries).
    pub(crate) fn to_rows(&self, max_text: usize) -> Vec<Row> {
        let mut rows = Vec::new();
        let mut rest = self.json.as_str();
        while rows.is_empty() || !rest.is_empty() {
            let mut end = rest.len().min(max_text.max(4));
            while !rest.is_char_boundary(end) {
                end -= 1;
            }
            let (part, tail) = rest.split_at(end);
            rows.push(vec![
                Value::Int(self.table_id.0 as i64),
                Value::Text(self.table.clone()),
                Value::Int(rows.len() as i64),
                Value::Text(part.to_string()),
                Value::Text("stats".into()),
            ]);
            rest = tail;
        }
        rows
    }

    /// Puts the `stats` rows back together, one [`StoredStats`] per table.
    /// Rows of a table that does not exist (or exists with another id), a
    /// missing part or a part twice are errors: `drop_table` deletes a
    /// table's statistics with it, in the same transaction.
    fn from_rows(
        rows: &[&(RowId, Row)],
        tables: &BTreeMap<String, TableDef>,
    ) -> std::result::Result<BTreeMap<String, StoredStats>, String> {
        // table -> (its id, part number -> (where, text))
        type Parts = BTreeMap<i64, (RowId, String)>;
        let mut parts: BTreeMap<String, (TableId, Parts)> = BTreeMap::new();
        for (rowid, row) in rows {
            let [Value::Int(id), Value::Text(table), Value::Int(part), Value::Text(text), _] =
                row.as_slice()
            else {
                return Err(format!("malformed catalog row {row:?}"));
            };
            let id = TableId(*id as u32);
            if tables.get(table).map(|t| t.id) != Some(id) {
                return Err(format!(
                    "statistics of table {table} (id {}), which does not exist",
                    id.0
                ));
            }
            let entry = parts.entry(table.clone()).or_insert((id, BTreeMap::new()));
            if entry.1.insert(*part, (*rowid, text.clone())).is_some() {
                return Err(format!("statistics of table {table}: part {part} twice"));
            }
        }
        let mut out = BTreeMap::new();
        for (table, (table_id, parts)) in parts {
            if parts.keys().copied().ne(0..parts.len() as i64) {
                return Err(format!("statistics of table {table}: parts missing"));
            }
            out.insert(
                table.clone(),
                StoredStats {
                    table_id,
                    table,
                    json: parts.values().map(|(_, t)| t.as_str()).collect(),
                    catalog_rowids: parts.values().map(|(r, _)| *r).collect(),
                },
            );
        }
        Ok(out)
    }
}

/// The catalog behind its lock, with the per-table `Rules` that DML
/// looks up on every statement cached. Every change to the catalog goes
/// through [`CatalogLock::write`], which empties the cache, so a cached
/// entry can never outlive the definitions it was built from.
#[derive(Default)]
pub struct CatalogLock {
    inner: parking_lot::RwLock<Catalog>,
    rules: parking_lot::Mutex<std::collections::HashMap<String, std::sync::Arc<Rules>>>,
}

impl CatalogLock {
    pub fn read(&self) -> parking_lot::RwLockReadGuard<'_, Catalog> {
        self.inner.read()
    }

    pub fn write(&self) -> parking_lot::RwLockWriteGuard<'_, Catalog> {
        let guard = self.inner.write();
        self.rules.lock().clear();
        guard
    }

    /// What DML on `table` must maintain and enforce (cached).
    pub(crate) fn rules(&self, table: &str) -> Result<std::sync::Arc<Rules>> {
        if let Some(r) = self.rules.lock().get(table) {
            return Ok(r.clone());
        }
        let cat = self.inner.read();
        let r = std::sync::Arc::new(cat.rules(table)?);
        // Stored while the read guard is held: a writer (which clears the
        // cache after taking the write lock) cannot interleave.
        self.rules.lock().insert(table.to_string(), r.clone());
        Ok(r)
    }
}

/// The dictionary as the layers above share it: the catalog (definitions,
/// behind its lock), the optimizer's statistics cache and the tables'
/// definition versions. One per database; the kernel below knows nothing
/// of them.
#[derive(Default)]
pub struct Schema {
    pub catalog: CatalogLock,
    pub stats: table_stats::StatsCache,
    /// Per table, how many times DDL or new statistics changed what a plan
    /// on it may rest on. A cached plan records the versions of the tables
    /// it was optimized for and is invalid once one of them moves (Oracle
    /// invalidates the dependent cursors in the library cache).
    versions: parking_lot::Mutex<std::collections::HashMap<String, u64>>,
}

impl Schema {
    /// The current definition version of `table` (0 until DDL or ANALYZE
    /// first touches it).
    pub fn version(&self, table: &str) -> u64 {
        self.versions
            .lock()
            .get(&table.to_ascii_lowercase())
            .copied()
            .unwrap_or(0)
    }

    /// Moves `table`'s version on: every plan optimized for the old one is
    /// invalid from now on. Called by each DDL on the table (and on its
    /// indexes and constraints) and by `ANALYZE`, after the change is
    /// committed and published.
    pub fn invalidate(&self, table: &str) {
        *self
            .versions
            .lock()
            .entry(table.to_ascii_lowercase())
            .or_insert(0) += 1;
    }
}

/// The in-memory catalog cache.
#[derive(Default, Debug)]
pub struct Catalog {
    pub tables: BTreeMap<String, TableDef>,
    pub indexes: BTreeMap<String, IndexDef>,
    pub constraints: BTreeMap<String, ConstraintDef>,
    /// Stored optimizer statistics by table (`ANALYZE TABLE`).
    pub stats: BTreeMap<String, StoredStats>,
    pub views: BTreeMap<String, ViewDef>,
    pub next_id: u32,
}

impl Catalog {
    /// Takes the next object id (a table's or an index's); ids are never
    /// reused, so a dropped object's blocks can never be mistaken for a
    /// new one's.
    pub(crate) fn take_object_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Rebuilds the catalog from its rows (tables first, then indexes,
    /// constraints and statistics).
    pub(crate) fn from_rows(rows: Vec<(RowId, Row)>) -> std::result::Result<Catalog, String> {
        let mut cat = Catalog::default();
        let kind = |r: &Row| match r.get(4) {
            Some(Value::Text(k)) => k.clone(),
            _ => "table".to_string(),
        };
        let is_index = |r: &Row| kind(r) == "index";
        for (rowid, row) in rows.iter().filter(|(_, r)| kind(r) == "table") {
            let def = TableDef::from_row(row, *rowid)?;
            cat.next_id = cat.next_id.max(def.id.0 + 1);
            cat.tables.insert(def.name.clone(), def);
        }
        for (rowid, row) in rows.iter().filter(|(_, r)| is_index(r)) {
            let def = IndexDef::from_row(row, *rowid, &cat.tables)?;
            cat.next_id = cat.next_id.max(def.id + 1);
            cat.indexes.insert(def.name.clone(), def);
        }
        for (rowid, row) in rows.iter().filter(|(_, r)| kind(r) == "constraint") {
            let def = ConstraintDef::from_row(row, *rowid)?;
            cat.constraints.insert(def.name.clone(), def);
        }
        for (rowid, row) in rows.iter().filter(|(_, r)| kind(r) == "view") {
            let def = ViewDef::from_row(row, *rowid)?;
            cat.next_id = cat.next_id.max(def.id + 1);
            cat.views.insert(def.name.clone(), def);
        }
        let stats: Vec<&(RowId, Row)> = rows.iter().filter(|(_, r)| kind(r) == "stats").collect();
        cat.stats = StoredStats::from_rows(&stats, &cat.tables)?;
        cat.next_id = cat.next_id.max(1);
        Ok(cat)
    }

    /// What DML on `table` must maintain and enforce.
    pub(crate) fn rules(&self, table: &str) -> Result<Rules> {
        let def = self.get(table)?.clone();
        let own: Vec<ConstraintDef> = self
            .constraints
            .values()
            .filter(|c| c.table == def.name)
            .cloned()
            .collect();
        let mut referencing = Vec::new();
        for c in self.constraints.values() {
            if let ConstraintKind::ForeignKey { parent, .. } = &c.kind {
                if *parent == def.name {
                    referencing.push((c.clone(), self.get(&c.table)?.clone()));
                }
            }
        }
        let mut parents = Vec::new();
        for c in &own {
            if let ConstraintKind::ForeignKey {
                parent,
                parent_index,
                ..
            } = &c.kind
            {
                parents.push((
                    c.name.clone(),
                    self.get(parent)?.clone(),
                    self.index(parent_index)?.clone(),
                ));
            }
        }
        Ok(Rules {
            indexes: self.indexes_of(&def.name),
            def,
            own,
            referencing,
            parents,
        })
    }

    /// The column sets of a table's PRIMARY KEY and UNIQUE constraints:
    /// an equality on every column of one finds at most one row.
    pub fn unique_keys_of(&self, table: &str) -> Vec<Vec<usize>> {
        self.constraints
            .values()
            .filter(|c| c.table == table)
            .filter_map(|c| c.unique_index().map(|(_, cols)| cols.to_vec()))
            .collect()
    }

    /// The indexes of a table.
    pub fn indexes_of(&self, table: &str) -> Vec<IndexDef> {
        self.indexes
            .values()
            .filter(|i| i.table == table)
            .cloned()
            .collect()
    }

    pub fn index(&self, name: &str) -> Result<&IndexDef> {
        self.indexes
            .get(&name.to_ascii_lowercase())
            .ok_or_else(|| Error::NoSuchObject {
                kind: "index",
                name: name.to_string(),
            })
    }

    pub fn get(&self, name: &str) -> Result<&TableDef> {
        self.tables
            .get(&name.to_ascii_lowercase())
            .ok_or_else(|| Error::NoSuchObject {
                kind: "table",
                name: name.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, id: u32) -> TableDef {
        TableDef {
            id: TableId(id),
            name: name.into(),
            seg: BlockNo(9),
            columns: Vec::new(),
            logging: true,
            catalog_rowid: RowId {
                block: BlockNo(2),
                slot: 0,
            },
        }
    }

    fn rowid(slot: u16) -> RowId {
        RowId {
            block: BlockNo(3),
            slot,
        }
    }

    #[test]
    fn statistics_too_long_for_one_row_come_back_from_their_parts() {
        let st = StoredStats {
            table_id: TableId(4),
            table: "t".into(),
            // 10 + 2×'é' (2 bytes each) + 10 = 24 bytes in parts of at most
            // 11: the first 'é' would straddle byte 11, so part 0 ends
            // before it (10 bytes); part 1 is 'éé' + 7 'b' (11), part 2 the
            // last 3 'b'.
            json: format!("{}éé{}", "a".repeat(10), "b".repeat(10)),
            catalog_rowids: Vec::new(),
        };
        let rows = st.to_rows(11);
        let texts: Vec<&Value> = rows.iter().map(|r| &r[3]).collect();
        assert_eq!(
            texts,
            [
                &Value::Text("a".repeat(10)),
                &Value::Text(format!("éé{}", "b".repeat(7))),
                &Value::Text("b".repeat(3)),
            ]
        );
        // Stored in another order: read back in part order.
        let stored: Vec<(RowId, Row)> = rows
            .into_iter()
            .enumerate()
            .rev()
            .map(|(i, r)| (rowid(i as u16), r))
            .collect();
        let tables = BTreeMap::from([("t".to_string(), table("t", 4))]);
        let refs: Vec<&(RowId, Row)> = stored.iter().collect();
        let back = StoredStats::from_rows(&refs, &tables).unwrap();
        assert_eq!(back["t"].json, st.json);
        assert_eq!(back["t"].catalog_rowids, [rowid(0), rowid(1), rowid(2)]);
    }

    #[test]
    fn statistics_of_another_table_of_the_same_name_are_refused() {
        let st = StoredStats {
            table_id: TableId(4),
            table: "t".into(),
            json: "{}".into(),
            catalog_rowids: Vec::new(),
        };
        let stored: Vec<(RowId, Row)> = vec![(rowid(0), st.to_rows(100).remove(0))];
        let refs: Vec<&(RowId, Row)> = stored.iter().collect();
        let tables = BTreeMap::from([("t".to_string(), table("t", 5))]);
        assert!(StoredStats::from_rows(&refs, &tables).is_err());
    }
}
