//! Every tunable of the engine, with defaults, ranges and validation.
//!
//! `Config` is plain data; `Config::validate` is the only place that decides
//! whether a combination is acceptable, and it answers with `Error::Config`
//! naming the setting and its range. No I/O happens here.
//!
//! Each numeric setting has a documented range, in one table
//! ([`Config::LIMITS`]), which `validate` checks, `set` checks before it
//! converts a number to its field's type (so nothing is ever truncated:
//! `4294967299` is out of range, never 3), and [`Config::settings_help`]
//! prints for `--set --help` and the README. The upper bounds keep what
//! follows from a setting allocatable: `cache_frames` frames of
//! `block_size` bytes, a `log_file_size` buffer for the archiver, undo and
//! extents within the 32-bit block numbers of a data file.
//!
//! Some settings are fixed when a database is created: `block_size`,
//! `log_file_size`, `log_files` (recorded in the control file) and
//! `undo_segments` (in the file header). `undo_blocks` is only the undo's
//! size at creation, fixed like them (the undo grows by itself, with
//! `undo_autoextend`). Opening an existing database with one of them
//! *given* with another value is an error naming both values, not silently
//! ignored ([`Config::check_fixed`]); the same value is accepted, so a
//! script's settings header can be run again. Every other setting applies
//! to the open that gives it (cache size, undo retention and autoextend,
//! lock timeout, commit mode, extent size, ...). Given means set
//! by name ([`Config::set`], so `--set` and script headers, even to the
//! default value) or set in the struct to something other than the
//! default; a `Config` that leaves them alone opens any database.

use std::collections::BTreeSet;
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

/// One numeric setting's documented range (inclusive), in its unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub name: &'static str,
    pub min: u64,
    pub max: u64,
    /// The unit and any rule relative to other settings, for messages and
    /// the help.
    pub note: &'static str,
}

/// Engine configuration.
///
/// Every numeric field has a range ([`Config::LIMITS`]); `validate` refuses
/// anything outside it.
#[derive(Clone, Debug)]
pub struct Config {
    /// Block size in bytes: a power of two from 2048 to 32768. Fixed at
    /// creation.
    pub block_size: usize,
    /// Buffer cache size in frames (blocks), 16 to 1048576 (2^20). Memory
    /// stays within `cache_frames * block_size` plus a fixed overhead per
    /// frame; opening fails cleanly if that much cannot be allocated.
    pub cache_frames: usize,
    /// Size of each preallocated redo log file in bytes, from 32 blocks to
    /// 1 GiB. Fixed at creation.
    pub log_file_size: u64,
    /// Number of redo log files in the ring, 3 to 255. Fixed at creation.
    pub log_files: u32,
    /// Undo size in blocks when the database is created, split evenly over
    /// the undo segments: at least 4 per segment, at most 16777216 (2^24).
    pub undo_blocks: u32,
    /// Undo segments, 1 to 64, each with its own transaction table and
    /// ring. Fixed at creation. Transactions take them in turn, so
    /// concurrent writers do not all latch one transaction table.
    pub undo_segments: u16,
    /// Whether undo may grow when every undo block holds active or
    /// unexpired undo (claim C40). When false, a writer that needs undo space
    /// and finds none fails with `UndoExhausted`.
    pub undo_autoextend: bool,
    /// Upper limit on undo growth, in blocks, when autoextend is on: at most
    /// 16777216 (2^24), and at least `undo_blocks` with autoextend.
    pub undo_max_blocks: u32,
    /// How long committed undo is kept for consistent reads before it may be
    /// reused (a target: a fixed-size undo steals unexpired undo when full).
    /// At most 30 days; `set` takes milliseconds.
    pub undo_retention: Duration,
    /// Commit mode (fast or force).
    pub commit_mode: CommitMode,
    /// How long a writer waits for a row or table lock before
    /// `LockTimeout`: at most one day, or [`Duration::MAX`] to wait until
    /// the holder's transaction ends, as Oracle does. `set` takes
    /// milliseconds, or `wait`. The library's default is 10 s, so a test
    /// that forgets a COMMIT fails instead of hanging; `blocklab shell`
    /// and `sql` wait indefinitely unless given a value, so a two-terminal
    /// exercise can go at typing speed.
    pub lock_timeout: Duration,
    /// Blocks added to a segment at a time, 1 to 65536.
    pub extent_blocks: u32,
    /// Interested-transaction-list slots formatted in a new data block, 1
    /// to 64 and at most `block_size / 64 - 1` (31 in 2 KiB blocks), so
    /// that they take at most half a block.
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
    /// The settings given by name ([`Config::set`], hence `--set` and
    /// script headers), so that a setting fixed at creation given with its
    /// default value still counts as asked for (see `check_fixed`).
    pub given: BTreeSet<&'static str>,
    /// The instance's clock (commit times, undo retention): the system
    /// clock unless a test gives a manual one to move time by hand.
    pub clock: crate::clock::Clock,
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
            given: BTreeSet::new(),
            clock: crate::clock::Clock::system(),
        }
    }
}

/// Milliseconds in a day.
const DAY_MS: u64 = 24 * 60 * 60 * 1000;
/// The most undo blocks, initial or grown: 2^24, well inside the 32-bit
/// block numbers of a data file.
const MAX_UNDO_BLOCKS: u64 = 1 << 24;

/// A duration in whole milliseconds, saturating (a `Duration` may exceed
/// what `u64` milliseconds hold; `validate` then refuses it).
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Every setting `Config::set` knows, by its canonical name.
const SETTINGS: &[&str] = &[
    "block_size",
    "cache_frames",
    "log_file_size",
    "log_files",
    "undo_blocks",
    "undo_segments",
    "undo_autoextend",
    "undo_max_blocks",
    "undo_retention",
    "commit_mode",
    "lock_timeout",
    "extent_blocks",
    "initrans",
    "background_writer",
    "default_user",
    "archive_dir",
    "noarchivelog",
];

/// The numeric setting `name` from text: read as a whole `u64` (anything
/// else, a sign or more than 20 digits, is unreadable), checked against the
/// setting's range, and only then converted to the field's type, which
/// every range fits: nothing is ever truncated.
fn number<T: TryFrom<u64>>(name: &str, text: &str) -> Result<T> {
    let range = Config::limit(name).map_or(String::new(), |l| {
        format!(" (a whole number from {} to {}{})", l.min, l.max, l.note)
    });
    let unreadable = || Error::Config(format!("setting {name}: cannot read {text:?}{range}"));
    let n = text.parse::<u64>().map_err(|_| unreadable())?;
    Config::check_range(name, n)?;
    T::try_from(n).map_err(|_| unreadable())
}

/// A `usize` as `u64`, saturating (never truncating).
fn wide(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

impl Config {
    /// Sets one setting by name from text (`undo_blocks`, `16`), as the
    /// command line's `--set key=value` and a script's
    /// `-- blocklab: set key=value` header lines give them. Durations are in
    /// milliseconds; booleans are `true`/`false`/`on`/`off`.
    ///
    /// A number is read as a whole `u64` and checked against the setting's
    /// range before it is stored, so an out-of-range value is an error
    /// naming the range, never truncated to the field's type. A refused
    /// value leaves the configuration unchanged.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let v = value.trim();
        let name = match key.trim() {
            "undo_retention_ms" => "undo_retention",
            "lock_timeout_ms" => "lock_timeout",
            k => SETTINGS.iter().copied().find(|s| *s == k).ok_or_else(|| {
                Error::Config(format!(
                    "no setting named {k} (settings: {})",
                    SETTINGS.join(", ")
                ))
            })?,
        };
        let bad = || Error::Config(format!("setting {name}: cannot read {value:?}"));
        let flag = || match v.to_ascii_lowercase().as_str() {
            "true" | "on" | "yes" | "1" => Ok(true),
            "false" | "off" | "no" | "0" => Ok(false),
            _ => Err(bad()),
        };
        let ms = |n| Duration::from_millis(n);
        match name {
            "block_size" => self.block_size = number(name, v)?,
            "cache_frames" => self.cache_frames = number(name, v)?,
            "log_file_size" => self.log_file_size = number(name, v)?,
            "log_files" => self.log_files = number(name, v)?,
            "undo_blocks" => self.undo_blocks = number(name, v)?,
            "undo_segments" => self.undo_segments = number(name, v)?,
            "undo_autoextend" => self.undo_autoextend = flag()?,
            "undo_max_blocks" => self.undo_max_blocks = number(name, v)?,
            "undo_retention" => self.undo_retention = ms(number(name, v)?),
            "commit_mode" => {
                self.commit_mode = match v.to_ascii_lowercase().as_str() {
                    "fast" => CommitMode::Fast,
                    "force" => CommitMode::Force,
                    _ => return Err(bad()),
                }
            }
            "lock_timeout" => {
                self.lock_timeout = match v.to_ascii_lowercase().as_str() {
                    "wait" | "infinite" | "none" => Duration::MAX,
                    _ => ms(number(name, v)?),
                }
            }
            "extent_blocks" => self.extent_blocks = number(name, v)?,
            "initrans" => self.initrans = number(name, v)?,
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
            other => return Err(Error::Internal(format!("setting {other} has no field"))),
        }
        self.given.insert(name);
        Ok(())
    }

    /// The documented range of every numeric setting: the one place the
    /// ranges are written (field docs, `--set` help and README repeat it).
    pub const LIMITS: &'static [Limit] = &[
        Limit {
            name: "block_size",
            min: 2048,
            max: 32768,
            note: " bytes, a power of two; fixed at creation",
        },
        Limit {
            name: "cache_frames",
            min: 16,
            max: 1 << 20,
            note: " frames (blocks)",
        },
        Limit {
            name: "log_file_size",
            min: 32 * 2048,
            max: 1 << 30,
            note: " bytes, at least 32 blocks; fixed at creation",
        },
        Limit {
            name: "log_files",
            min: 3,
            max: 255,
            note: "; fixed at creation",
        },
        Limit {
            name: "undo_blocks",
            min: 4,
            max: MAX_UNDO_BLOCKS,
            note: " blocks, at least 4 per undo segment; fixed at creation",
        },
        Limit {
            name: "undo_segments",
            min: 1,
            max: 64,
            note: "; fixed at creation",
        },
        Limit {
            name: "undo_max_blocks",
            min: 0,
            max: MAX_UNDO_BLOCKS,
            note: " blocks, at least undo_blocks with undo_autoextend",
        },
        Limit {
            name: "undo_retention",
            min: 0,
            max: 30 * DAY_MS,
            note: " ms (30 days)",
        },
        Limit {
            name: "lock_timeout",
            min: 0,
            max: DAY_MS,
            note: " ms (1 day), or wait: until the holder ends (shell and sql's default)",
        },
        Limit {
            name: "extent_blocks",
            min: 1,
            max: 1 << 16,
            note: " blocks",
        },
        Limit {
            name: "initrans",
            min: 1,
            max: 64,
            note: ", at most block_size/64 - 1",
        },
    ];

    /// The range of the numeric setting `name`.
    pub fn limit(name: &str) -> Option<&'static Limit> {
        Config::LIMITS.iter().find(|l| l.name == name)
    }

    /// Checks `value` against the range of setting `name`.
    fn check_range(name: &str, value: u64) -> Result<()> {
        match Config::limit(name) {
            Some(l) if !(l.min..=l.max).contains(&value) => Err(Error::Config(format!(
                "{name}={value} is out of range: from {} to {}{}",
                l.min, l.max, l.note
            ))),
            _ => Ok(()),
        }
    }

    /// Every setting with its range or values, one per line: the text of
    /// `--set`'s help and of the README's settings list.
    pub fn settings_help() -> String {
        let mut t = String::new();
        for l in Config::LIMITS {
            t.push_str(&format!("{:<19}{} to {}{}\n", l.name, l.min, l.max, l.note));
        }
        for (name, values) in [
            ("undo_autoextend", "on|off (true|false)"),
            ("background_writer", "on|off (true|false)"),
            ("noarchivelog", "on|off (true|false)"),
            ("commit_mode", "fast|force"),
            ("default_user", "a user name"),
            ("archive_dir", "a directory, or off"),
        ] {
            t.push_str(&format!("{name:<19}{values}\n"));
        }
        t
    }

    /// Whether this configuration asks for setting `name` (see the module
    /// docs): given by name, or different from the default.
    fn asks_for(&self, name: &str, value: u64, default: u64) -> bool {
        self.given.contains(name) || value != default
    }

    /// Checks the settings a database fixed at its creation against what
    /// this configuration asks for: a different value is an error naming
    /// both, never silently replaced.
    pub fn check_fixed(&self, block_size: u64, log_file_size: u64, log_files: u64) -> Result<()> {
        let d = Config::default();
        self.check_one(
            "block_size",
            wide(self.block_size),
            wide(d.block_size),
            block_size,
        )?;
        self.check_one(
            "log_file_size",
            self.log_file_size,
            d.log_file_size,
            log_file_size,
        )?;
        self.check_one(
            "log_files",
            self.log_files.into(),
            d.log_files.into(),
            log_files,
        )
    }

    /// `check_fixed` for the number of undo segments, which the database
    /// records in its file header rather than in the control file.
    pub fn check_fixed_undo_segments(&self, undo_segments: u64) -> Result<()> {
        let asked = self.undo_segments.into();
        self.check_one(
            "undo_segments",
            asked,
            Config::default().undo_segments.into(),
            undo_segments,
        )
    }

    /// Whether this configuration asks for an undo size (see
    /// [`Config::check_fixed_undo_blocks`]).
    pub fn asks_for_undo_blocks(&self) -> bool {
        self.asks_for(
            "undo_blocks",
            self.undo_blocks.into(),
            Config::default().undo_blocks.into(),
        )
    }

    /// `check_fixed` for the undo size a database was created with: each of
    /// its `undo_segments` rings began with one extent of `per_segment`
    /// blocks (autoextend adds extents after it). The creation split
    /// `undo_blocks` evenly, rounding down, so an `undo_blocks` that splits
    /// into the same `per_segment` is the same value.
    pub fn check_fixed_undo_blocks(&self, undo_segments: u64, per_segment: u64) -> Result<()> {
        let asked = u64::from(self.undo_blocks);
        let segments = undo_segments.max(1);
        let has = per_segment * segments;
        let same = asked / segments == per_segment;
        let default = Config::default().undo_blocks.into();
        self.check_one(
            "undo_blocks",
            asked,
            default,
            if same { asked } else { has },
        )
    }

    fn check_one(&self, name: &str, asked: u64, default: u64, has: u64) -> Result<()> {
        if self.asks_for(name, asked, default) && asked != has {
            return Err(Error::Config(format!(
                "{name} is fixed when a database is created: this one has {name}={has}, \
                 the configuration asks for {asked} (leave {name} out, or use a new directory)"
            )));
        }
        Ok(())
    }

    /// Fails cleanly, before anything is allocated for real, when the
    /// buffer cache's `cache_frames * block_size` bytes cannot be had.
    pub(crate) fn check_cache_memory(&self) -> Result<()> {
        let too_big = || {
            Error::Config(format!(
                "cache_frames={} of {}-byte blocks needs more memory than can be allocated; \
                 lower cache_frames",
                self.cache_frames, self.block_size
            ))
        };
        let bytes = self
            .cache_frames
            .checked_mul(self.block_size)
            .ok_or_else(too_big)?;
        let mut probe: Vec<u8> = Vec::new();
        probe.try_reserve_exact(bytes).map_err(|_| too_big())
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
        for (name, value) in [
            ("block_size", wide(self.block_size)),
            ("cache_frames", wide(self.cache_frames)),
            ("log_file_size", self.log_file_size),
            ("log_files", self.log_files.into()),
            ("undo_blocks", self.undo_blocks.into()),
            ("undo_segments", self.undo_segments.into()),
            ("undo_max_blocks", self.undo_max_blocks.into()),
            ("undo_retention", millis(self.undo_retention)),
            // Duration::MAX is "wait until the holder ends", not a length.
            (
                "lock_timeout",
                if self.lock_timeout == Duration::MAX {
                    0
                } else {
                    millis(self.lock_timeout)
                },
            ),
            ("extent_blocks", self.extent_blocks.into()),
            ("initrans", self.initrans.into()),
        ] {
            Config::check_range(name, value)?;
        }
        if !self.block_size.is_power_of_two() {
            return bad(format!(
                "block_size must be a power of two from 2048 to 32768, got {}",
                self.block_size
            ));
        }
        let max_itl = self.block_size / 64 - 1;
        if usize::from(self.initrans) > max_itl {
            return bad(format!(
                "initrans must be at most block_size/64 - 1 ({max_itl} for {}-byte blocks), got {}",
                self.block_size, self.initrans
            ));
        }
        let min_log = 32 * self.block_size as u64;
        if self.log_file_size < min_log {
            return bad(format!(
                "log_file_size must be at least 32 blocks ({min_log} bytes), got {}",
                self.log_file_size
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
