//! Optimizer statistics as the dictionary keeps them: the [`TableStats`]
//! record `ANALYZE` produces (`crate::analyze` gathers it), its stored form
//! in a catalog row, and [`StatsCache`], the in-memory copy the optimizer
//! reads.
//!
//! Data flow: `ANALYZE TABLE` gathers a `TableStats`, writes its JSON into
//! the catalog's `stats` row and puts it in the cache under
//! `StatsCache::write_guard`; opening a database loads every stored row
//! back into the cache (`StatsCache::load`); the optimizer reads
//! `StatsCache::get`. Invariant: the cache holds exactly the tables that
//! have a `stats` row, each as that row decodes.
//!
//! ## Stored form
//!
//! [`TableStats::to_json`] writes the statistics as one JSON object, so a
//! catalog row can be read with nothing but a JSON viewer:
//!
//! ```text
//! {"format":1,"table":"t","num_rows":1000,"blocks":100,"avg_row_len":773,
//!  "columns":[{"name":"k","ndv":1000,"nulls":0,"low":{"int":0},"high":{"int":999}}, …],
//!  "indexes":[{"name":"t_k","blevel":1,"leaf_blocks":3,"distinct_keys":1000,
//!              "num_rows":1000,"clustering_factor":100,"cluster_ratio":"1",
//!              "avg_leaf_blocks_per_key":"0.003","avg_data_blocks_per_key":"0.1"}]}
//! ```
//!
//! Values are tagged (`{"int":…}`, `{"real":"…"}`, `{"text":"…"}`, `null`).
//! Every float is written as a *string* in Rust's shortest round-trip
//! form, because a JSON number parsed back by `serde_json`'s default
//! parser may come back one unit in the last place off, and a plan costed
//! from reloaded statistics must be the plan costed before the restart.
//! A TEXT `low`/`high` keeps its first [`STORED_TEXT_BYTES`] bytes (Oracle
//! keeps 32 bytes of `LOW_VALUE`/`HIGH_VALUE` too); the cost formula reads
//! only the first 7 (`access::cost`), so no estimate changes.
//!

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard};
use serde_json::{json, Value as Json};

use crate::access::{ColumnStats, IndexStats};
use crate::value::Value;

/// The optimizer's copy of every table's statistics.
#[derive(Default)]
pub struct StatsCache {
    /// By table, from the last `ANALYZE TABLE`. The catalog's `stats` rows
    /// are the stored copy, loaded here when the database opens.
    tables: Mutex<HashMap<String, Arc<TableStats>>>,
    /// Held while statistics rows are written or deleted (`ANALYZE`,
    /// `DROP TABLE`), so that two ANALYZEs of one table cannot both replace
    /// the same old rows. Taken before any row lock, by a session holding
    /// none (DDL commits first).
    writes: Mutex<()>,
}

impl StatsCache {
    pub(crate) fn write_guard(&self) -> MutexGuard<'_, ()> {
        self.writes.lock()
    }

    /// Replaces the cache by the catalog's stored statistics.
    pub(crate) fn load(&self, cat: &super::Catalog) -> std::result::Result<(), String> {
        let mut m = HashMap::new();
        for (name, stored) in &cat.stats {
            let st =
                TableStats::from_json(&stored.json).map_err(|e| format!("table {name}: {e}"))?;
            m.insert(name.clone(), Arc::new(st));
        }
        *self.tables.lock() = m;
        Ok(())
    }

    pub(crate) fn get(&self, table: &str) -> Option<Arc<TableStats>> {
        self.tables.lock().get(table).cloned()
    }

    pub(crate) fn set(&self, table: &str, st: Option<TableStats>) {
        let mut m = self.tables.lock();
        match st {
            Some(st) => m.insert(table.to_string(), Arc::new(st)),
            None => m.remove(table),
        };
    }
}

/// Statistics of one table and its indexes, as of one snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct TableStats {
    pub table: String,
    pub num_rows: u64,
    /// Blocks below the HWM, header excluded.
    pub blocks: u64,
    pub avg_row_len: u64,
    /// One entry per table column, in column order.
    pub columns: Vec<(String, ColumnStats)>,
    /// One entry per index of the table, by index name.
    pub indexes: Vec<IndexStatsRow>,
}

impl TableStats {
    /// The statistics of a column by name.
    pub fn column(&self, name: &str) -> Option<&ColumnStats> {
        self.columns
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, s)| s)
    }

    /// The statistics of a column by position: the shape the cost functions
    /// take (`access::index_scan_cost(plan, terms, ix, &|c| t.column_stats(c))`).
    pub fn column_stats(&self, col: usize) -> Option<ColumnStats> {
        self.columns.get(col).map(|(_, s)| s.clone())
    }

    /// The statistics of an index by name.
    pub fn index(&self, name: &str) -> Option<&IndexStatsRow> {
        self.indexes
            .iter()
            .find(|i| i.name.eq_ignore_ascii_case(name))
    }
}

/// Statistics of one index (see the module docs for each definition).
#[derive(Clone, Debug, PartialEq)]
pub struct IndexStatsRow {
    pub name: String,
    pub blevel: u32,
    pub leaf_blocks: u64,
    pub distinct_keys: u64,
    pub num_rows: u64,
    pub clustering_factor: u64,
    /// (N − CF) / (N − B), 1.0 when N == B (the book, chapter 7).
    pub cluster_ratio: f64,
    pub avg_leaf_blocks_per_key: f64,
    pub avg_data_blocks_per_key: f64,
}

impl IndexStatsRow {
    /// The subset the cost formula takes.
    pub fn as_cost_stats(&self) -> IndexStats {
        IndexStats {
            blevel: self.blevel,
            leaf_blocks: self.leaf_blocks,
            clustering_factor: self.clustering_factor,
            num_rows: self.num_rows,
            distinct_keys: self.distinct_keys,
        }
    }
}

impl fmt::Display for TableStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "TABLE {}: num_rows {}, blocks {}, avg_row_len {}",
            self.table, self.num_rows, self.blocks, self.avg_row_len
        )?;
        for (name, c) in &self.columns {
            let show = |v: &Option<Value>| v.as_ref().map_or("-".into(), |v| v.to_string());
            let (lo, hi) = (show(&c.low), show(&c.high));
            // Long text values (pads) would swamp the table.
            let cut = |s: String| match s.char_indices().nth(20) {
                Some((i, _)) => format!("{}…", &s[..i]),
                None => s,
            };
            writeln!(
                f,
                "  column {name}: ndv {}, nulls {}, low {}, high {}",
                c.ndv,
                c.nulls,
                cut(lo),
                cut(hi)
            )?;
        }
        for i in &self.indexes {
            writeln!(
                f,
                "  index {}: blevel {}, leaf_blocks {}, distinct_keys {}, num_rows {}, \
                 clustering_factor {}, cluster_ratio {:.3}",
                i.name,
                i.blevel,
                i.leaf_blocks,
                i.distinct_keys,
                i.num_rows,
                i.clustering_factor,
                i.cluster_ratio
            )?;
        }
        Ok(())
    }
}

/// Leading bytes of a TEXT `low`/`high` value that the stored form keeps.
pub const STORED_TEXT_BYTES: usize = 32;

/// Version of the stored form, written as `"format"`.
const STORED_FORMAT: u64 = 1;

impl TableStats {
    /// The stored form (see the module docs): one JSON object.
    pub fn to_json(&self) -> String {
        let columns: Vec<Json> = self
            .columns
            .iter()
            .map(|(name, c)| {
                json!({
                    "name": name,
                    "ndv": c.ndv,
                    "nulls": c.nulls,
                    "low": value_json(c.low.as_ref()),
                    "high": value_json(c.high.as_ref()),
                })
            })
            .collect();
        let indexes: Vec<Json> = self
            .indexes
            .iter()
            .map(|i| {
                json!({
                    "name": i.name,
                    "blevel": i.blevel,
                    "leaf_blocks": i.leaf_blocks,
                    "distinct_keys": i.distinct_keys,
                    "num_rows": i.num_rows,
                    "clustering_factor": i.clustering_factor,
                    "cluster_ratio": float_json(i.cluster_ratio),
                    "avg_leaf_blocks_per_key": float_json(i.avg_leaf_blocks_per_key),
                    "avg_data_blocks_per_key": float_json(i.avg_data_blocks_per_key),
                })
            })
            .collect();
        json!({
            "format": STORED_FORMAT,
            "table": self.table,
            "num_rows": self.num_rows,
            "blocks": self.blocks,
            "avg_row_len": self.avg_row_len,
            "columns": columns,
            "indexes": indexes,
        })
        .to_string()
    }

    /// Reads the stored form back. `Err` says what is wrong with it.
    pub fn from_json(text: &str) -> std::result::Result<TableStats, String> {
        let v: Json = serde_json::from_str(text).map_err(|e| format!("statistics: {e}"))?;
        if v.get("format").and_then(Json::as_u64) != Some(STORED_FORMAT) {
            return Err(format!("statistics: unknown format {:?}", v.get("format")));
        }
        let columns = array(&v, "columns")?
            .iter()
            .map(|c| {
                Ok((
                    string(c, "name")?,
                    ColumnStats {
                        ndv: uint(c, "ndv")?,
                        nulls: uint(c, "nulls")?,
                        low: value_from_json(field(c, "low")?)?,
                        high: value_from_json(field(c, "high")?)?,
                    },
                ))
            })
            .collect::<std::result::Result<_, String>>()?;
        let indexes = array(&v, "indexes")?
            .iter()
            .map(|i| {
                Ok(IndexStatsRow {
                    name: string(i, "name")?,
                    blevel: u32::try_from(uint(i, "blevel")?)
                        .map_err(|_| "statistics: blevel out of range".to_string())?,
                    leaf_blocks: uint(i, "leaf_blocks")?,
                    distinct_keys: uint(i, "distinct_keys")?,
                    num_rows: uint(i, "num_rows")?,
                    clustering_factor: uint(i, "clustering_factor")?,
                    cluster_ratio: float(i, "cluster_ratio")?,
                    avg_leaf_blocks_per_key: float(i, "avg_leaf_blocks_per_key")?,
                    avg_data_blocks_per_key: float(i, "avg_data_blocks_per_key")?,
                })
            })
            .collect::<std::result::Result<_, String>>()?;
        Ok(TableStats {
            table: string(&v, "table")?,
            num_rows: uint(&v, "num_rows")?,
            blocks: uint(&v, "blocks")?,
            avg_row_len: uint(&v, "avg_row_len")?,
            columns,
            indexes,
        })
    }
}

/// A float as the string Rust prints for it: the shortest text that parses
/// back to the same bits (`inf` and `NaN` included).
fn float_json(x: f64) -> Json {
    Json::String(x.to_string())
}

fn value_json(v: Option<&Value>) -> Json {
    match v {
        None | Some(Value::Null) => Json::Null,
        Some(Value::Int(i)) => json!({ "int": i }),
        Some(Value::Real(r)) => json!({ "real": float_json(*r) }),
        Some(Value::Text(t)) => {
            let mut end = t.len().min(STORED_TEXT_BYTES);
            while !t.is_char_boundary(end) {
                end -= 1;
            }
            json!({ "text": &t[..end] })
        }
    }
}

fn value_from_json(v: &Json) -> std::result::Result<Option<Value>, String> {
    if v.is_null() {
        return Ok(None);
    }
    if let Some(i) = v.get("int") {
        return i
            .as_i64()
            .map(|i| Some(Value::Int(i)))
            .ok_or_else(|| format!("statistics: bad int {i}"));
    }
    if let Some(r) = v.get("real") {
        return parse_float(r).map(|r| Some(Value::Real(r)));
    }
    if let Some(Json::String(t)) = v.get("text") {
        return Ok(Some(Value::Text(t.clone())));
    }
    Err(format!("statistics: bad value {v}"))
}

fn field<'a>(v: &'a Json, key: &str) -> std::result::Result<&'a Json, String> {
    v.get(key)
        .ok_or_else(|| format!("statistics: no field {key:?}"))
}

fn uint(v: &Json, key: &str) -> std::result::Result<u64, String> {
    field(v, key)?
        .as_u64()
        .ok_or_else(|| format!("statistics: {key:?} is not a count"))
}

fn string(v: &Json, key: &str) -> std::result::Result<String, String> {
    field(v, key)?
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("statistics: {key:?} is not text"))
}

fn array<'a>(v: &'a Json, key: &str) -> std::result::Result<&'a Vec<Json>, String> {
    field(v, key)?
        .as_array()
        .ok_or_else(|| format!("statistics: {key:?} is not a list"))
}

fn float(v: &Json, key: &str) -> std::result::Result<f64, String> {
    parse_float(field(v, key)?)
}

fn parse_float(v: &Json) -> std::result::Result<f64, String> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("statistics: bad float {v}"))
}

/// `(N − CF) / (N − B)`, defined as 1.0 when `N == B` (every indexed row
/// alone in its block, or no rows: no order could do better).
pub fn cluster_ratio(num_rows: u64, clustering_factor: u64, table_blocks: u64) -> f64 {
    if num_rows <= table_blocks {
        return 1.0;
    }
    let r = num_rows.saturating_sub(clustering_factor) as f64 / (num_rows - table_blocks) as f64;
    r.clamp(0.0, 1.0)
}
