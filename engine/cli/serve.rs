//! Attached sessions: the process that owns a database listens on a Unix
//! socket in its directory, and a second `blocklab shell` or `blocklab
//! sql` on that database attaches to it, as a new session on its own
//! thread in the owner process (as sqlplus sessions share one instance).
//!
//! ```text
//!  terminal 1: blocklab serve --db D      (or the first `blocklab shell`)
//!                 │ owns D (directory lock), listens on D/blocklab.sock
//!  terminal 2: blocklab shell --db D  ──connect──▶ thread: Driver (its own
//!                                                  sessions, main first)
//! ```
//!
//! The protocol is lines of text. The client's first line is
//! `blocklab-attach 1 format=F stats=0|1 echo=0|1 interactive=0|1
//! user=NAME`; then every line it sends is a script line, run as the
//! owner's own script driver runs it. `interactive=1` is a person at a
//! prompt (`blocklab shell` on a terminal): a statement for a session
//! that waits for a lock is answered at once with BLK-00100; a script
//! (`sql`, or `shell` reading a pipe) waits for a lock another client
//! holds, as a sqlplus script would (`blocklab::script`). After each line, and once more after the client closes its
//! writing half, the server writes the output and then a marker line,
//! `\0ready NAME CONT` (NAME the current session, CONT 1 while a
//! statement is partly typed) or, at the end, `\0end SQL CLIENT EXIT`
//! (the error counts and the exit status a stop asked for, `-` if none).
//!
//! The socket file is owner-only (mode 0600: only the user who runs the
//! owner can attach), and it is removed when the owner stops; a file left
//! by a killed owner is replaced by the next one (whoever holds the
//! directory lock owns the name). Simplified: errors of an attached `sql
//! --format csv` come inline, not on stderr; settings (`--set`, script
//! headers) are the owner's, an attached client cannot change them.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use blocklab::script::{Driver, Flow, Format, Outcome, ScriptOptions, Splitter};
use blocklab::Database;
use clap::Args;

use crate::CmdResult;

/// The socket's name in the database directory.
pub(crate) const SOCKET: &str = "blocklab.sock";

/// The first line a client sends.
const HELLO: &str = "blocklab-attach 1";

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// Database directory (created if missing).
    #[arg(long, default_value_os_t = crate::default_db())]
    db: PathBuf,
    /// An engine setting, `--set undo_blocks=64` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

/// `blocklab serve`: owns the database and serves attached sessions until
/// its standard input ends (Ctrl-D, or the pipe a script holds closes).
pub(crate) fn run_serve(a: &ServeArgs) -> CmdResult {
    let db = crate::shell::open_for_serve(&a.db, &a.set)?;
    listen(&db, &a.db, || {
        eprintln!(
            "blocklab serve: {} is open; attach with `blocklab shell --db {0}` or \
             `blocklab sql --db {0}`; end of input stops",
            a.db.display()
        );
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
    })
    .map_err(crate::Failure::Error)
}

/// Runs `body` while serving attached clients on `dir`'s socket; when it
/// returns, stops accepting, disconnects the clients (their open
/// transactions roll back) and removes the socket.
pub(crate) fn listen<R>(db: &Database, dir: &Path, body: impl FnOnce() -> R) -> Result<R, String> {
    let path = dir.join(SOCKET);
    // The caller owns the directory lock: a file here is a killed owner's.
    let _ = std::fs::remove_file(&path);
    let listener =
        UnixListener::bind(&path).map_err(|e| format!("listening on {}: {e}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("making {} owner-only: {e}", path.display()))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("listening on {}: {e}", path.display()))?;
    let stop = AtomicBool::new(false);
    let clients: Mutex<Vec<UnixStream>> = Mutex::new(Vec::new());
    let result = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        if let Ok(c) = stream.try_clone() {
                            clients.lock().unwrap_or_else(|p| p.into_inner()).push(c);
                        }
                        std::thread::Builder::new()
                            .name("attached session".into())
                            .stack_size(16 << 20)
                            .spawn_scoped(scope, || serve_client(db, stream))
                            .ok();
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
        });
        let r = body();
        stop.store(true, Ordering::SeqCst);
        for c in clients.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
        r
    });
    let _ = std::fs::remove_file(&path);
    Ok(result)
}

/// A `Write` onto the client's stream, shared by the driver's output and
/// error output and the marker lines.
#[derive(Clone)]
struct Shared(Arc<Mutex<UnixStream>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).flush()
    }
}

/// One attached client: its own driver (its own sessions) fed line by
/// line; ends when the client closes its writing half or goes away.
fn serve_client(db: &Database, stream: UnixStream) {
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut lines = BufReader::new(read_half).lines();
    let Some(Ok(hello)) = lines.next() else {
        return;
    };
    let Some(opts) = parse_hello(&hello) else {
        let _ = writeln!(&stream, "blocklab: not an attach request: {hello:?}");
        return;
    };
    let (opts, echo, interactive) = opts;
    let shared = Shared(Arc::new(Mutex::new(stream)));
    let (mut out, mut err, mut marker) = (shared.clone(), shared.clone(), shared);
    let mut driver = Driver::new(db, opts, &mut out)
        .error_output(&mut err)
        .echo(echo)
        .interactive(interactive);
    let mut splitter = Splitter::new();
    let mut quit = false;
    for line in lines {
        let Ok(line) = line else { break };
        for item in splitter.push_line(&line) {
            match driver.feed(item) {
                Ok(Flow::Continue) => {}
                _ => {
                    quit = true;
                    break;
                }
            }
        }
        if quit {
            // `\quit` (or a stop): the end marker answers this line.
            break;
        }
        let cont = u8::from(splitter.is_continuing());
        if writeln!(marker, "\0ready {} {cont}", driver.current()).is_err() {
            break;
        }
    }
    if !quit {
        if let Some(item) = splitter.finish() {
            let _ = driver.feed(item);
        }
    }
    let end = match driver.finish_outcome() {
        Ok(o) => end_line(&o),
        Err(_) => return,
    };
    let _ = marker.write_all(end.as_bytes());
}

fn end_line(o: &Outcome) -> String {
    let exit = o.exit.map_or("-".to_string(), |e| e.to_string());
    format!("\0end {} {} {exit}\n", o.sql_errors, o.client_errors)
}

/// The options of a `blocklab-attach 1 …` line, with the echo and
/// interactive flags (a client that does not say is a script).
fn parse_hello(line: &str) -> Option<(ScriptOptions, bool, bool)> {
    let rest = line.strip_prefix(HELLO)?;
    let mut opts = ScriptOptions::default();
    let mut echo = true;
    let mut interactive = false;
    for kv in rest.split_whitespace() {
        let (k, v) = kv.split_once('=')?;
        match k {
            "format" => opts.format = v.parse::<Format>().ok()?,
            "stats" => opts.stats = v == "1",
            "echo" => echo = v == "1",
            "interactive" => interactive = v == "1",
            "user" => opts.user = v.to_string(),
            _ => return None,
        }
    }
    Some((opts, echo, interactive))
}

/// The client side: a connection to the owner of `dir`, if it listens.
pub(crate) struct Attached {
    stream: UnixStream,
    reader: BufReader<UnixStream>,
}

/// What the server said after a line: output to print, then either the
/// prompt state or the end of the script.
pub(crate) enum Reply {
    Ready { session: String, continuing: bool },
    End(Outcome),
}

impl Attached {
    /// Connects to the owner of `dir`; `None` when nothing listens there.
    /// An `interactive` client (a person at a prompt) gets no echo of what
    /// it typed and BLK-00100 instead of a lock wait; a script gets both.
    pub(crate) fn connect(dir: &Path, opts: &ScriptOptions, interactive: bool) -> Option<Attached> {
        let stream = UnixStream::connect(dir.join(SOCKET)).ok()?;
        let format = match opts.format {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Json => "json",
        };
        let hello = format!(
            "{HELLO} format={format} stats={} echo={} interactive={} user={}\n",
            u8::from(opts.stats),
            u8::from(!interactive),
            u8::from(interactive),
            opts.user.split_whitespace().next().unwrap_or("blocklab")
        );
        (&stream).write_all(hello.as_bytes()).ok()?;
        let reader = BufReader::new(stream.try_clone().ok()?);
        Some(Attached { stream, reader })
    }

    /// Sends one script line.
    pub(crate) fn send(&mut self, line: &str) -> Result<(), String> {
        writeln!(self.stream, "{line}").map_err(|e| format!("sending to the owner: {e}"))
    }

    /// Ends the script: the owner finishes it (pending statements, rollback).
    pub(crate) fn finish(&mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Write);
    }

    /// Copies the owner's output to `out` up to the next marker line.
    pub(crate) fn reply(&mut self, out: &mut dyn Write) -> Result<Reply, String> {
        let gone = || "the owner of the database closed the connection".to_string();
        loop {
            let mut line = String::new();
            let n = self
                .reader
                .read_line(&mut line)
                .map_err(|e| format!("reading from the owner: {e}"))?;
            if n == 0 {
                return Err(gone());
            }
            if let Some(marker) = line.strip_prefix('\0') {
                let w: Vec<&str> = marker.split_whitespace().collect();
                return match w.as_slice() {
                    ["ready", s, c] => Ok(Reply::Ready {
                        session: s.to_string(),
                        continuing: *c == "1",
                    }),
                    ["end", sql, client, exit] => Ok(Reply::End(Outcome {
                        sql_errors: sql.parse().unwrap_or(0),
                        client_errors: client.parse().unwrap_or(0),
                        exit: exit.parse().ok(),
                    })),
                    _ => Err(gone()),
                };
            }
            out.write_all(line.as_bytes())
                .map_err(|e| format!("writing the output: {e}"))?;
        }
    }
}
