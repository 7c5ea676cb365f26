//! Splitting script text into items: SQL statements and client commands.
//!
//! The splitter reads a line at a time (so the interactive shell can feed
//! it as the user types) and follows just enough of the SQL lexer to know
//! where a statement ends: a `;` outside quotes (`'…'`, `"…"`) and outside
//! comments (`-- …`, `/* … */`). Comments inside a statement stay in its
//! text, because the optimizer reads its hints from `/*+ … */` comments.
//! Before a statement, blank lines, leading whitespace and whole `--`
//! comment lines are dropped.
//!
//! A line that starts an item (nothing of a statement typed yet) may be a
//! client command instead ([`HELP`] lists them all): backslash commands
//! (`\connect NAME`, `\wait NAME`, `\d`, `\i FILE`, …), the sqlite3 dot
//! commands `.tables`, `.indexes`, `.help`, `.quit`, and the SQL*Plus and
//! MySQL words `DESCRIBE t`, `SHOW TABLES`, `HELP`, `SET AUTOTRACE …`,
//! `SET ARRAYSIZE n`, `SET TIMING …`, `WHENEVER SQLERROR …`, `EXIT`.
//! Backslash lines are commands even in the middle of a statement (no SQL
//! line starts with a backslash), which keeps the partial statement; the
//! other forms are commands only at the start of an item, since `SET` also
//! begins the second line of many UPDATEs (and `DESC` ends ORDER BYs).
//!
//! Invariant: the concatenation of the statements' texts, in order, is the
//! input minus the dropped leading whitespace and comment lines, the `;`
//! terminators and the client command lines.

/// One unit of a script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A SQL statement without its terminating `;`, comments kept.
    Sql(String),
    /// A client command, with the line it was read from (for the echo).
    Command { cmd: Command, line: String },
}

/// What the client does itself, without the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `\connect NAME` (or `\c NAME`): make NAME the current session.
    Connect(String),
    /// `\wait NAME`: wait for NAME's pending statement and print its result.
    Wait(String),
    /// `SET AUTOTRACE ON | OFF | TRACEONLY`, for the current session.
    Autotrace(Autotrace),
    /// `SET ARRAYSIZE n` (1 to 5000, as in SQL*Plus): rows per fetch call
    /// of the current session's queries.
    ArraySize(usize),
    /// `\echo TEXT`: print TEXT.
    Echo(String),
    /// `DESCRIBE t`, `DESC t`, `\d t`: the table's columns (type,
    /// NULL-ability), indexes and constraints.
    Describe(String),
    /// `SHOW TABLES`, `\dt`, `\d`, `.tables`: every table.
    ListTables,
    /// `\di [TABLE]`, `.indexes [TABLE]`: the indexes (of one table) with
    /// their columns.
    ListIndexes(Option<String>),
    /// `help`, `\?`, `\help`, `\h`, `.help`: print [`HELP`].
    Help,
    /// `\i FILE`: run the script in FILE at this point.
    Include(String),
    /// `\timing on|off` (alone: toggle), `SET TIMING ON|OFF`: print each
    /// statement's elapsed time after its result.
    Timing(Option<bool>),
    /// `\quit`, `\q`, `EXIT`, `QUIT`: stop reading the script.
    Quit,
    /// `WHENEVER SQLERROR EXIT [SUCCESS | FAILURE | n] [ROLLBACK]` or
    /// `WHENEVER SQLERROR CONTINUE [NONE]`, as in SQL*Plus: what a failing
    /// SQL statement does from now on.
    WheneverSqlError(OnSqlError),
    /// A line that is meant as a client command but is not a valid one.
    Invalid {
        /// SQL*Plus' client error code (`SP2-…`).
        code: &'static str,
        reason: String,
    },
}

/// The AUTOTRACE setting of a session, as in SQL*Plus.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Autotrace {
    /// Rows only.
    #[default]
    Off,
    /// Rows, then the statement's statistics.
    On,
    /// The statistics and the row count, without the rows.
    TraceOnly,
}

/// What a failing SQL statement does to the script (SQL*Plus'
/// `WHENEVER SQLERROR`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnSqlError {
    /// Print the error and go on (SQL*Plus' default).
    #[default]
    Continue,
    /// Stop the script; the program exits with this status. `EXIT` alone
    /// and `EXIT SUCCESS` are 0, `EXIT FAILURE` is 1, as in SQL*Plus.
    Exit(u8),
}

/// Where the lexer is inside the statement being read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum State {
    #[default]
    Code,
    /// Inside `'…'`.
    Text,
    /// Inside `"…"` (a quoted identifier).
    Ident,
    /// Inside `/* … */`.
    Comment,
}

/// An incremental splitter: feed it lines, collect finished items.
#[derive(Debug, Default)]
pub struct Splitter {
    /// The statement read so far.
    buf: String,
    state: State,
    /// `buf` holds comments only, no statement text yet.
    only_comments: bool,
}

impl Splitter {
    pub fn new() -> Splitter {
        Splitter::default()
    }

    /// True while a statement is partly read (the shell's `  2 ` prompt).
    pub fn is_continuing(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Forgets the partly read statement (the shell's Ctrl-C).
    pub fn clear(&mut self) {
        *self = Splitter::default();
    }

    /// Reads one line (without its line terminator) and returns the items it
    /// completed, in order.
    pub fn push_line(&mut self, line: &str) -> Vec<Item> {
        let mut items = Vec::new();
        if self.state == State::Code {
            let at_start = self.buf.is_empty() || self.only_comments;
            if let Some(cmd) = client_command(line, at_start) {
                if at_start {
                    // Comments before a command belong to no statement.
                    self.clear();
                }
                items.push(Item::Command {
                    cmd,
                    line: line.trim().to_string(),
                });
                return items;
            }
        }
        if !self.buf.is_empty() {
            self.buf.push('\n');
        }
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match self.state {
                State::Text | State::Ident => {
                    self.buf.push(c);
                    // A doubled quote closes and reopens: same result.
                    let close = if self.state == State::Text { '\'' } else { '"' };
                    if c == close {
                        self.state = State::Code;
                    }
                }
                State::Comment => {
                    self.buf.push(c);
                    if c == '*' && chars.peek() == Some(&'/') {
                        self.buf.push('/');
                        chars.next();
                        self.state = State::Code;
                    }
                }
                State::Code => match c {
                    _ if self.buf.is_empty() && c.is_whitespace() => {}
                    '-' if chars.peek() == Some(&'-') => {
                        if self.buf.is_empty() {
                            // A comment line (or a comment after `;`)
                            // before any statement: dropped.
                            break;
                        }
                        self.buf.push(c);
                        self.buf.extend(chars.by_ref());
                    }
                    '/' if chars.peek() == Some(&'*') => {
                        if self.buf.is_empty() {
                            self.only_comments = true;
                        }
                        self.buf.push_str("/*");
                        chars.next();
                        self.state = State::Comment;
                    }
                    ';' => {
                        if let Some(sql) = self.take() {
                            items.push(Item::Sql(sql));
                        }
                    }
                    _ => {
                        if c == '\'' {
                            self.state = State::Text;
                        } else if c == '"' {
                            self.state = State::Ident;
                        }
                        if !c.is_whitespace() {
                            self.only_comments = false;
                        }
                        self.buf.push(c);
                    }
                },
            }
        }
        items
    }

    /// Ends the input: a last statement without its `;` is an item too.
    pub fn finish(&mut self) -> Option<Item> {
        self.take().map(Item::Sql)
    }

    /// Takes the statement read so far; `None` if it holds no statement
    /// text (only comments, or nothing before a stray `;`).
    fn take(&mut self) -> Option<String> {
        let sql = std::mem::take(&mut self.buf);
        let only_comments = self.only_comments;
        self.clear();
        let sql = sql.trim_end();
        (!sql.is_empty() && !only_comments).then(|| sql.to_string())
    }
}

/// Splits a whole script into items.
pub fn split(text: &str) -> Vec<Item> {
    let mut s = Splitter::new();
    let mut items: Vec<Item> = text.lines().flat_map(|l| s.push_line(l)).collect();
    items.extend(s.finish());
    items
}

/// The client command on `line`, if it is one. `at_start`: no statement
/// text has been read yet, so `SET AUTOTRACE` and `EXIT` count too.
fn client_command(line: &str, at_start: bool) -> Option<Command> {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix('\\') {
        return Some(backslash_command(rest));
    }
    if !at_start {
        return None;
    }
    let words: Vec<String> = line
        .trim_end_matches(';')
        .split_whitespace()
        .map(str::to_ascii_uppercase)
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    if let Some(rest) = line.strip_prefix('.') {
        return dot_command(rest);
    }
    let name_arg = |what: &str, rest: &[&str], make: fn(String) -> Command| match rest {
        [name] if is_name(name) => make(name.to_ascii_lowercase()),
        _ => Command::Invalid {
            code: "SP2-0565",
            reason: format!("{what} needs one table name, got {:?}", rest.join(" ")),
        },
    };
    match words.as_slice() {
        ["EXIT" | "QUIT"] => Some(Command::Quit),
        ["HELP", ..] | ["?"] => Some(Command::Help),
        ["DESCRIBE" | "DESC", rest @ ..] => Some(name_arg("DESCRIBE", rest, Command::Describe)),
        ["SHOW", "TABLES"] => Some(Command::ListTables),
        ["SET", "TIMING" | "TIMI", rest @ ..] => Some(timing(rest)),
        ["SET", "AUTOTRACE" | "AUTOT", opts @ ..] => Some(autotrace(opts)),
        ["SET", "ARRAYSIZE" | "ARRAY", rest @ ..] => Some(arraysize(rest)),
        ["WHENEVER", rest @ ..] => Some(whenever(rest)),
        _ => None,
    }
}

/// `WHENEVER SQLERROR …` options. Open transactions are always rolled back
/// when a script ends, so `ROLLBACK` is accepted and `COMMIT` is not;
/// `OSERROR`, `WARNING` and variables are not supported.
fn whenever(opts: &[&str]) -> Command {
    let exit = |status: &[&str]| match status {
        [] | ["SUCCESS"] => Some(0),
        ["FAILURE"] => Some(1),
        [n] => n.parse::<u8>().ok(),
        _ => None,
    };
    let action = match opts {
        ["SQLERROR", "CONTINUE"] | ["SQLERROR", "CONTINUE", "NONE"] => Some(OnSqlError::Continue),
        ["SQLERROR", "EXIT", rest @ ..] => {
            let status = rest.strip_suffix(&["ROLLBACK"]).unwrap_or(rest);
            exit(status).map(OnSqlError::Exit)
        }
        _ => None,
    };
    action.map_or_else(
        || Command::Invalid {
            code: "SP2-0042",
            reason: format!(
                "unsupported WHENEVER {:?} (WHENEVER SQLERROR EXIT [SUCCESS|FAILURE|0-255] \
                 [ROLLBACK], or WHENEVER SQLERROR CONTINUE [NONE])",
                opts.join(" ")
            ),
        },
        Command::WheneverSqlError,
    )
}

fn backslash_command(rest: &str) -> Command {
    let (name, arg) = match rest.split_once(char::is_whitespace) {
        Some((n, a)) => (n, a.trim()),
        None => (rest, ""),
    };
    let session = |make: fn(String) -> Command| {
        let arg = arg.trim_end_matches(';').trim();
        let valid = !arg.is_empty()
            && arg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if valid {
            make(arg.to_string())
        } else {
            Command::Invalid {
                code: "SP2-0306",
                reason: format!(
                    "\\{name} needs a session name (letters, digits, _ and -), got {arg:?}"
                ),
            }
        }
    };
    let table = arg.trim_end_matches(';').trim();
    match name {
        "connect" | "c" => session(Command::Connect),
        "wait" => session(Command::Wait),
        "echo" => Command::Echo(arg.to_string()),
        "quit" | "q" => Command::Quit,
        "?" | "help" | "h" => Command::Help,
        "dt" | "d" if table.is_empty() => Command::ListTables,
        "d" if is_name(table) => Command::Describe(table.to_ascii_lowercase()),
        "di" if table.is_empty() => Command::ListIndexes(None),
        "di" if is_name(table) => Command::ListIndexes(Some(table.to_ascii_lowercase())),
        "d" | "dt" | "di" => Command::Invalid {
            code: "SP2-0565",
            reason: format!("\\{name} takes one table name, got {table:?}"),
        },
        "i" | "include" if !arg.is_empty() => Command::Include(arg.to_string()),
        "i" | "include" => Command::Invalid {
            code: "SP2-0310",
            reason: format!("\\{name} needs a file name"),
        },
        "timing" => {
            let words: Vec<String> = arg
                .split_whitespace()
                .map(str::to_ascii_uppercase)
                .collect();
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            timing(&words)
        }
        _ => Command::Invalid {
            code: "SP2-0042",
            reason: format!("unknown command \\{name} (help lists the client commands)"),
        },
    }
}

/// A table name as the client commands take it: letters, digits, `_`
/// and `$`, not starting with a digit (no quoted names).
fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// The sqlite3 dot commands students bring: `.tables`, `.indexes [t]`,
/// `.help`, `.quit`/`.exit`. Another dot line is not a command (it is not
/// SQL either: the engine says so).
fn dot_command(rest: &str) -> Option<Command> {
    let mut words = rest.trim_end_matches(';').split_whitespace();
    let cmd = match (words.next()?, words.next(), words.next()) {
        ("tables", None, None) => Command::ListTables,
        ("indexes" | "indices", None, None) => Command::ListIndexes(None),
        ("indexes" | "indices", Some(t), None) if is_name(t) => {
            Command::ListIndexes(Some(t.to_ascii_lowercase()))
        }
        ("help", _, _) => Command::Help,
        ("quit" | "exit", None, None) => Command::Quit,
        (other, ..) => Command::Invalid {
            code: "SP2-0042",
            reason: format!(
                "unknown command .{other} (dot commands: .tables, .indexes, .help, .quit; \
                 help lists every client command)"
            ),
        },
    };
    Some(cmd)
}

/// `\timing [on|off]`, `SET TIMING ON|OFF` (upper-cased words).
fn timing(opts: &[&str]) -> Command {
    match opts {
        [] => Command::Timing(None),
        ["ON"] => Command::Timing(Some(true)),
        ["OFF"] => Command::Timing(Some(false)),
        _ => Command::Invalid {
            code: "SP2-0265",
            reason: format!("timing must be set to ON or OFF, got {:?}", opts.join(" ")),
        },
    }
}

/// What `help` (`\?`, `\help`, `.help`) prints: every client command and
/// every statement form, one line each.
pub const HELP: &str = "\
Client commands (one per line; a backslash line may interrupt a statement):
  help | \\? | \\help | .help           this list
  DESCRIBE t | DESC t | \\d t          columns (type, NULL?), indexes and constraints of table t
  SHOW TABLES | \\dt | \\d | .tables    every table, with its statistics once analyzed
  \\di [t] | .indexes [t]              indexes (of table t) with their columns
  \\connect NAME | \\c NAME             open or switch to session NAME (the first is main)
  \\wait NAME                          wait for NAME's statement blocked on a lock, print it
  \\i FILE                             run the script in FILE here
  \\timing [on|off] | SET TIMING ON|OFF print each statement's elapsed time
  SET AUTOTRACE ON|OFF|TRACEONLY      print each statement's counters (this session)
  SET ARRAYSIZE n                     rows per fetch call, 1 to 5000 (this session)
  WHENEVER SQLERROR EXIT [n]|CONTINUE what a failing statement does to the script
  \\echo TEXT                          print TEXT
  \\quit | \\q | EXIT | QUIT | .quit    leave
SQL statements (end each with ;):
  SELECT [DISTINCT] cols FROM t [WHERE ..] [GROUP BY ..] [HAVING ..] [ORDER BY ..] [LIMIT n [OFFSET m]]
  INSERT [/*+ APPEND */] INTO t [(cols)] VALUES (..), (..) | SELECT ..
  UPDATE t SET col = expr [, ..] [WHERE ..]
  DELETE FROM t [WHERE ..]
  COMMIT | ROLLBACK
  SET TRANSACTION ISOLATION LEVEL READ COMMITTED|SERIALIZABLE  (the next transaction)
  ALTER SESSION SET ISOLATION_LEVEL = READ COMMITTED|SERIALIZABLE  (every later one)
  SET SESSION USER name               the user recorded in redo from now on
  CREATE TABLE t (col INTEGER|REAL|TEXT [NOT NULL] [PRIMARY KEY] [UNIQUE] [CHECK (..)]
                  [REFERENCES p [(col)]], .. [, CONSTRAINT c PRIMARY KEY|UNIQUE|CHECK|FOREIGN KEY ..])
  CREATE [UNIQUE] INDEX i ON t (col [DESC], ..)
  DROP TABLE t | DROP INDEX i
  ALTER TABLE t ADD [COLUMN] col TYPE | DROP [COLUMN] col | LOGGING | NOLOGGING
  ALTER INDEX i UNUSABLE | REBUILD
  ANALYZE [TABLE] t [COMPUTE STATISTICS]  (stores optimizer statistics)
  EXPLAIN [PLAN FOR] statement        the plan, without running it
  FLASHBACK TABLE t TO SCN n
";

/// `SET ARRAYSIZE n`: 1 to 5000 rows, as SQL*Plus allows.
fn arraysize(opts: &[&str]) -> Command {
    match opts {
        [n] => match n.parse::<usize>() {
            Ok(n) if (1..=5000).contains(&n) => Command::ArraySize(n),
            _ => Command::Invalid {
                code: "SP2-0267",
                reason: format!("arraysize option {n} out of range (1 through 5000)"),
            },
        },
        _ => Command::Invalid {
            code: "SP2-0267",
            reason: format!("SET ARRAYSIZE takes one number, got {:?}", opts.join(" ")),
        },
    }
}

/// `SET AUTOTRACE` options, as SQL*Plus spells them (`TRACE ONLY` and a
/// trailing `STATISTICS` are accepted; statistics are all it shows).
fn autotrace(opts: &[&str]) -> Command {
    let opts = match opts {
        [first @ .., "STATISTICS" | "STAT"] if !first.is_empty() => first,
        _ => opts,
    };
    match opts {
        ["ON"] => Command::Autotrace(Autotrace::On),
        ["OFF"] => Command::Autotrace(Autotrace::Off),
        ["TRACEONLY" | "TRACE"] | ["TRACE", "ONLY"] => Command::Autotrace(Autotrace::TraceOnly),
        _ => Command::Invalid {
            code: "SP2-0158",
            reason: format!(
                "unknown SET AUTOTRACE option {:?} (ON, OFF or TRACEONLY)",
                opts.join(" ")
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(s: &str) -> Item {
        Item::Sql(s.to_string())
    }

    fn cmd(cmd: Command, line: &str) -> Item {
        Item::Command {
            cmd,
            line: line.to_string(),
        }
    }

    #[test]
    fn semicolons_end_statements_only_outside_quotes_and_comments() {
        let items = split(
            "INSERT INTO t VALUES ('a;b', \"x;y\"); SELECT 1 /* ; */ FROM t -- ;\n WHERE a = ';';",
        );
        assert_eq!(
            items,
            vec![
                sql("INSERT INTO t VALUES ('a;b', \"x;y\")"),
                sql("SELECT 1 /* ; */ FROM t -- ;\n WHERE a = ';'"),
            ]
        );
    }

    #[test]
    fn doubled_quotes_stay_inside_the_string() {
        assert_eq!(
            split("SELECT 'it''s; fine' FROM dual;"),
            vec![sql("SELECT 'it''s; fine' FROM dual")]
        );
    }

    #[test]
    fn hints_and_inner_comments_are_kept_leading_comment_lines_dropped() {
        let items =
            split("-- a comment line\n\n   SELECT /*+ INDEX(t t_ix) */ a\n  -- inner\n  FROM t;\n");
        assert_eq!(
            items,
            vec![sql("SELECT /*+ INDEX(t t_ix) */ a\n  -- inner\n  FROM t")]
        );
    }

    #[test]
    fn a_multi_line_block_comment_does_not_end_at_a_semicolon() {
        let items = split("/* header;\n still header */ SELECT 1;");
        assert_eq!(items, vec![sql("/* header;\n still header */ SELECT 1")]);
    }

    #[test]
    fn client_commands_stand_on_their_own_line() {
        let items = split(
            "SELECT 1;\n\\connect b\nset autotrace traceonly;\n\\wait main\n\\echo hello world\nSET AUTOT ON STATISTICS\nexit\n",
        );
        assert_eq!(
            items,
            vec![
                sql("SELECT 1"),
                cmd(Command::Connect("b".into()), "\\connect b"),
                cmd(
                    Command::Autotrace(Autotrace::TraceOnly),
                    "set autotrace traceonly;"
                ),
                cmd(Command::Wait("main".into()), "\\wait main"),
                cmd(Command::Echo("hello world".into()), "\\echo hello world"),
                cmd(Command::Autotrace(Autotrace::On), "SET AUTOT ON STATISTICS"),
                cmd(Command::Quit, "exit"),
            ]
        );
    }

    #[test]
    fn whenever_sqlerror_is_a_client_command_with_sqlplus_defaults() {
        let whenever = |line: &str| match &split(line)[..] {
            [Item::Command { cmd, .. }] => cmd.clone(),
            other => panic!("{line}: {other:?}"),
        };
        let exit = |n| Command::WheneverSqlError(OnSqlError::Exit(n));
        assert_eq!(whenever("WHENEVER SQLERROR EXIT"), exit(0));
        assert_eq!(whenever("whenever sqlerror exit success;"), exit(0));
        assert_eq!(whenever("WHENEVER SQLERROR EXIT FAILURE ROLLBACK"), exit(1));
        assert_eq!(whenever("WHENEVER SQLERROR EXIT 42"), exit(42));
        assert_eq!(
            whenever("WHENEVER SQLERROR CONTINUE NONE"),
            Command::WheneverSqlError(OnSqlError::Continue)
        );
        for bad in [
            "WHENEVER SQLERROR EXIT COMMIT",
            "WHENEVER SQLERROR EXIT 256",
            "WHENEVER OSERROR EXIT",
            "WHENEVER SQLERROR CONTINUE ROLLBACK",
        ] {
            assert!(
                matches!(
                    whenever(bad),
                    Command::Invalid {
                        code: "SP2-0042",
                        ..
                    }
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn set_inside_a_statement_is_sql_and_other_sets_go_to_the_engine() {
        let items = split(
            "UPDATE t\nSET autotrace = 1;\nSET SESSION USER scott;\nSET TRANSACTION ISOLATION LEVEL SERIALIZABLE;",
        );
        assert_eq!(
            items,
            vec![
                sql("UPDATE t\nSET autotrace = 1"),
                sql("SET SESSION USER scott"),
                sql("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"),
            ]
        );
    }

    #[test]
    fn a_backslash_line_inside_a_statement_is_a_command_and_keeps_the_statement() {
        let items = split("SELECT a\n\\connect b\nFROM t;");
        assert_eq!(
            items,
            vec![
                cmd(Command::Connect("b".into()), "\\connect b"),
                sql("SELECT a\nFROM t"),
            ]
        );
    }

    /// The error codes of `text`'s commands, each of which must be invalid.
    fn invalid_codes(text: &str) -> Vec<&'static str> {
        split(text)
            .iter()
            .map(|i| match i {
                Item::Command {
                    cmd: Command::Invalid { code, .. },
                    ..
                } => *code,
                other => panic!("expected an invalid command, got {other:?}"),
            })
            .collect()
    }

    #[test]
    fn bad_client_commands_are_reported_as_invalid() {
        let codes = invalid_codes("\\frobnicate\nSET AUTOTRACE SIDEWAYS\n\\connect\n");
        assert_eq!(codes, ["SP2-0042", "SP2-0158", "SP2-0306"]);
    }

    #[test]
    fn a_last_statement_without_semicolon_still_runs_but_comments_alone_do_not() {
        assert_eq!(split("SELECT 1"), vec![sql("SELECT 1")]);
        assert_eq!(
            split("SELECT 1;\n/* trailing */\n-- end\n"),
            vec![sql("SELECT 1")]
        );
        assert_eq!(split(";;\n  ;"), vec![]);
    }

    #[test]
    fn comments_before_a_client_command_are_dropped() {
        let items = split("/* setup */\n\\connect b\n");
        assert_eq!(
            items,
            vec![cmd(Command::Connect("b".into()), "\\connect b")]
        );
    }

    #[test]
    fn the_dictionary_commands_students_bring_from_sqlplus_psql_and_sqlite3() {
        let cmds = |text: &str| -> Vec<Command> {
            split(text)
                .into_iter()
                .map(|i| match i {
                    Item::Command { cmd, .. } => cmd,
                    other => panic!("{text}: expected a command, got {other:?}"),
                })
                .collect()
        };
        let describe = Command::Describe("emp".into());
        assert_eq!(
            cmds("DESCRIBE emp\ndesc EMP;\n\\d emp\n"),
            [describe.clone(), describe.clone(), describe]
        );
        assert_eq!(
            cmds("SHOW TABLES\nshow tables;\n\\dt\n\\d\n.tables\n"),
            vec![Command::ListTables; 5]
        );
        assert_eq!(
            cmds("\\di\n\\di emp\n.indexes emp\n"),
            [
                Command::ListIndexes(None),
                Command::ListIndexes(Some("emp".into())),
                Command::ListIndexes(Some("emp".into())),
            ]
        );
        assert_eq!(
            cmds("help\nHELP;\n\\?\n\\help\n\\h\n.help\n"),
            vec![Command::Help; 6]
        );
        assert_eq!(
            cmds("\\timing on\n\\timing OFF\n\\timing\nSET TIMING ON\n"),
            [
                Command::Timing(Some(true)),
                Command::Timing(Some(false)),
                Command::Timing(None),
                Command::Timing(Some(true)),
            ]
        );
        assert_eq!(
            cmds("\\i scripts/setup file.sql\n"),
            [Command::Include("scripts/setup file.sql".into())]
        );
        assert_eq!(cmds(".quit\n"), [Command::Quit]);
    }

    #[test]
    fn help_is_a_command_so_the_next_statement_is_not_glued_to_it() {
        // Before, `help` began a statement and the SELECT after it failed.
        assert_eq!(
            split("help\nSELECT 1;"),
            vec![cmd(Command::Help, "help"), sql("SELECT 1")]
        );
    }

    #[test]
    fn desc_inside_a_statement_stays_sql_and_bad_arguments_are_invalid() {
        assert_eq!(
            split("SELECT a FROM t ORDER BY a\nDESC;"),
            vec![sql("SELECT a FROM t ORDER BY a\nDESC")]
        );
        let codes = invalid_codes("DESC\n\\d a b\n\\timing maybe\n\\i\n.schema\n");
        assert_eq!(
            codes,
            ["SP2-0565", "SP2-0565", "SP2-0265", "SP2-0310", "SP2-0042"]
        );
    }

    #[test]
    fn the_splitter_reports_a_statement_in_progress() {
        let mut s = Splitter::new();
        assert!(s.push_line("SELECT *").is_empty());
        assert!(s.is_continuing());
        assert_eq!(s.push_line("FROM t; SELECT"), vec![sql("SELECT *\nFROM t")]);
        assert!(s.is_continuing());
        assert_eq!(s.push_line("2;"), vec![sql("SELECT\n2")]);
        assert!(!s.is_continuing());
    }
}
