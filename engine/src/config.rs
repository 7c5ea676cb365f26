//! Every tunable of the engine, with defaults and validation.
//!
//! `Config` is plain data; `Config::validate` is the only place that decides
//! whether a combination is acceptable, and it answers with `Error::Config`
//! naming the setting. No I/O happens here.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};

/// When a commit returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitMode {
    /// Fast commit: the commit waits only for its redo to be synced; changed
    /// data blocks are written later by the writer or a checkpoint.
    Fast,
    /// Force: the commit also writes and syncs every data block the
    /// transaction changed. Exists only so that claim C04 can be measured.
    Force,
}

/// Engine configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Block size in bytes: a power of two from 2 KiB to 32 KiB.
    pub block_size: usize,
    /// Buffer cache size in frames (blocks). Memory stays within
    /// `cache_frames * block_size` plus a fixed overhead per frame.
    pub cache_frames: usize,
    /// Size of each preallocated redo log file in bytes.
    pub log_file_size: u64,
    /// Number of redo log files in the ring (at least 3).
    pub log_files: u32,
    /// Undo size in blocks when the database is created, split evenly over
    /// the undo segments.
    pub undo_blocks: u32,
    /// Undo segments, each with its own transaction table and ring (fixed
    /// at creation). Transactions take them in turn, so concurrent writers
    /// do not all latch one transaction table.
    pub undo_segments: u16,
    /// Whether undo may grow when every undo block holds active or
    /// unexpired undo (claim C40). When false, a writer that needs undo space
    /// and finds none fails with `UndoExhausted`.
    pub undo_autoextend: bool,
    /// Upper limit on undo growth, in blocks, when autoextend is on.
    pub undo_max_blocks: u32,
    /// How long committed undo is kept for consistent reads before it may be
    /// reused (a target: a fixed-size undo steals unexpired undo when full).
    pub undo_retention: Duration,
    /// Commit mode (fast or force).
    pub commit_mode: CommitMode,
    /// How long a writer waits for a row lock before `LockTimeout`.
    pub lock_timeout: Duration,
    /// Blocks added to a segment at a time.
    pub extent_blocks: u32,
    /// Interested-transaction-list slots formatted in a new data block.
    pub initrans: u8,
    /// Run the background writer (dirty block writes and incremental
    /// checkpoints). Tests that count physical writes exactly turn it off.
    pub background_writer: bool,
    /// The session user recorded in redo for sessions that do not set one.
    pub default_user: String,
    /// Archive mode: every filled redo log file is copied to this directory
    /// before the ring may reuse it, so the whole redo history survives for
    /// the log miner and for recovery from a backup. The directory is
    /// remembered in the database (file `archive_dest`): later opens keep
    /// archiving there unless they name another one or set `noarchivelog`.
    pub archive_dir: Option<PathBuf>,
    /// Turns archive mode off for a database that has it on (Oracle's
    /// `ALTER DATABASE NOARCHIVELOG`); `set archive_dir=off` sets it.
    pub noarchivelog: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            block_size: 8192,
            cache_frames: 4096,
            log_file_size: 16 << 20,
            log_files: 4,
            undo_blocks: 1024,
            undo_segments: 4,
            undo_autoextend: true,
            undo_max_blocks: 1 << 20,
            undo_retention: Duration::from_secs(900),
            commit_mode: CommitMode::Fast,
            lock_timeout: Duration::from_secs(10),
            extent_blocks: 16,
            initrans: 2,
            background_writer: true,
            default_user: "blocklab".to_string(),
            archive_dir: None,
            noarchivelog: false,
        }
    }
}

impl Config {
    /// Sets one setting by name from text (`undo_blocks`, `16`), as the
    /// command line's `--set key=value` and a script's
    /// `-- blocklab: set key=value` header lines give them. Durations are in
    /// milliseconds; booleans are `true`/`false`/`on`/`off`.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let v = value.trim();
        let bad = || {
            Error::Config(format!(
                "setting {key}: cannot read {value:?} (see the Config docs for the unit)"
            ))
        };
        let num = || v.parse::<u64>().map_err(|_| bad());
        let flag = || match v.to_ascii_lowercase().as_str() {
            "true" | "on" | "yes" | "1" => Ok(true),
            "false" | "off" | "no" | "0" => Ok(false),
            _ => Err(bad()),
        };
        match key.trim() {
            "block_size" => self.block_size = num()? as usize,
            "cache_frames" => self.cache_frames = num()? as usize,
            "log_file_size" => self.log_file_size = num()?,
            "log_files" => self.log_files = num()? as u32,
            "undo_blocks" => self.undo_blocks = num()? as u32,
            "undo_segments" => self.undo_segments = num()? as u16,
            "undo_autoextend" => self.undo_autoextend = flag()?,
            "undo_max_blocks" => self.undo_max_blocks = num()? as u32,
            "undo_retention" | "undo_retention_ms" => {
                self.undo_retention = Duration::from_millis(num()?)
            }
            "commit_mode" => {
                self.commit_mode = match v.to_ascii_lowercase().as_str() {
                    "fast" => CommitMode::Fast,
                    "force" => CommitMode::Force,
                    _ => return Err(bad()),
                }
            }
            "lock_timeout" | "lock_timeout_ms" => self.lock_timeout = Duration::from_millis(num()?),
            "extent_blocks" => self.extent_blocks = num()? as u32,
            "initrans" => self.initrans = num()? as u8,
            "background_writer" => self.background_writer = flag()?,
            "default_user" => self.default_user = v.to_string(),
            "archive_dir" => match v.to_ascii_lowercase().as_str() {
                "" | "off" | "none" => {
                    self.archive_dir = None;
                    self.noarchivelog = true;
                }
                _ => {
                    self.archive_dir = Some(PathBuf::from(v));
                    self.noarchivelog = false;
                }
            },
            "noarchivelog" => self.noarchivelog = flag()?,
            other => return Err(Error::Config(format!("no setting named {other}"))),
        }
        Ok(())
    }

    /// Applies `-- blocklab: set key=value [key=value…]` lines found at the
    /// top of a script (before its first statement), so that a lab script
    /// carries the settings it needs (a small undo for snapshot too old).
    pub fn apply_script_header(&mut self, script: &str) -> Result<()> {
        for line in script.lines().map(str::trim) {
            if line.is_empty() {
                continue;
            }
            let Some(rest) = line.strip_prefix("--") else {
                break;
            };
            let Some(sets) = rest.trim().strip_prefix("blocklab: set ") else {
                continue;
            };
            for kv in sets.split_whitespace() {
                let (k, v) = kv
                    .split_once('=')
                    .ok_or_else(|| Error::Config(format!("expected key=value, got {kv}")))?;
                self.set(k, v)?;
            }
        }
        self.validate()
    }

    /// Checks every setting; the error names the first bad one.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(m));
        if !self.block_size.is_power_of_two() || !(2048..=32768).contains(&self.block_size) {
            return bad(format!(
                "block_size must be a power of two from 2048 to 32768, got {}",
                self.block_size
            ));
        }
        if self.cache_frames < 16 {
            return bad(format!(
                "cache_frames must be at least 16, got {}",
                self.cache_frames
            ));
        }
        if self.log_files < 3 {
            return bad(format!(
                "log_files must be at least 3, got {}",
                self.log_files
            ));
        }
        let min_log = 32 * self.block_size as u64;
        if self.log_file_size < min_log {
            return bad(format!(
                "log_file_size must be at least 32 blocks ({min_log} bytes), got {}",
                self.log_file_size
            ));
        }
        if !(1..=64).contains(&self.undo_segments) {
            return bad(format!(
                "undo_segments must be from 1 to 64, got {}",
                self.undo_segments
            ));
        }
        if self.undo_blocks < 4 * self.undo_segments as u32 {
            return bad(format!(
                "undo_blocks must be at least 4 per undo segment ({}), got {}",
                4 * self.undo_segments as u32,
                self.undo_blocks
            ));
        }
        if self.undo_autoextend && self.undo_max_blocks < self.undo_blocks {
            return bad(format!(
                "undo_max_blocks ({}) is smaller than undo_blocks ({})",
                self.undo_max_blocks, self.undo_blocks
            ));
        }
        if self.extent_blocks == 0 {
            return bad("extent_blocks must be at least 1".to_string());
        }
        if self.initrans == 0 {
            return bad("initrans must be at least 1".to_string());
        }
        if self.noarchivelog && self.archive_dir.is_some() {
            return bad("archive_dir and noarchivelog are both set".to_string());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_by_name_and_script_headers() {
        let mut c = Config::default();
        c.apply_script_header(
            "-- a lab\n-- blocklab: set undo_blocks=16 undo_autoextend=off\n-- blocklab: set undo_retention=0\nSELECT 1;\n-- blocklab: set undo_blocks=999\n",
        )
        .unwrap();
        assert_eq!(c.undo_blocks, 16);
        assert!(!c.undo_autoextend);
        assert_eq!(c.undo_retention, Duration::ZERO);
        assert!(c.set("undo_blocks", "many").is_err());
        c.apply_script_header("-- blocklab: set archive_dir=/tmp/arch")
            .unwrap();
        assert_eq!(c.archive_dir, Some(PathBuf::from("/tmp/arch")));
        c.set("archive_dir", "off").unwrap();
        assert_eq!((c.archive_dir.is_none(), c.noarchivelog), (true, true));
        assert!(c.set("no_such", "1").is_err());
        assert!(Config::default()
            .apply_script_header("-- blocklab: set block_size=1000")
            .is_err());
    }
}
