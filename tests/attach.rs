//! Two terminals on one database (issue 19): `blocklab serve` owns the
//! directory and listens on `DIR/blocklab.sock`; `blocklab sql --db DIR`
//! run while it does attaches as a new session in the owner process. The
//! test plays the first terminal over the socket itself and the second
//! with the binary, at human speed: the second waits longer than the old
//! 10 s lock timeout for the first one's COMMIT. The interactive shell is
//! driven through a pseudo-terminal: with a pipe for stdin it would read
//! the pipe as a script, which is another path (no prompt, no BLK-00100).

#![cfg(unix)]

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_blocklab");

/// Sends `line` and returns what the owner printed before its next marker.
fn say(reader: &mut BufReader<UnixStream>, stream: &mut UnixStream, line: &str) -> String {
    writeln!(stream, "{line}").unwrap();
    let mut out = String::new();
    loop {
        let mut l = String::new();
        assert!(reader.read_line(&mut l).unwrap() > 0, "owner gone: {out}");
        if l.starts_with('\0') {
            return out;
        }
        out.push_str(&l);
    }
}

#[test]
fn a_second_client_attaches_and_waits_at_human_speed_for_the_first_ones_commit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let mut owner = Command::new(BIN)
        .args(["serve", "--db"])
        .arg(&db)
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let sock = db.join("blocklab.sock");
    let start = Instant::now();
    while !sock.exists() {
        assert!(start.elapsed() < Duration::from_secs(60), "no socket");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Owner-only: other users cannot attach.
    let mode = std::fs::metadata(&sock).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    // An attached `sql` creates the table.
    let setup = Command::new(BIN)
        .args(["sql", "-e"])
        .arg("CREATE TABLE acct (id INTEGER PRIMARY KEY, bal INTEGER); INSERT INTO acct VALUES (1, 100); COMMIT;")
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(setup.status.code(), Some(0), "{setup:?}");

    // Terminal 1 (over the socket): update the row, do not commit yet.
    let mut a = UnixStream::connect(&sock).unwrap();
    let mut a_reader = BufReader::new(a.try_clone().unwrap());
    writeln!(
        a,
        "blocklab-attach 1 format=table stats=0 echo=0 user=alice"
    )
    .unwrap();
    let got = say(
        &mut a_reader,
        &mut a,
        "UPDATE acct SET bal = bal - 10 WHERE id = 1;",
    );
    assert_eq!(got, "1 row updated.\n\n");

    // Terminal 2: the same row; it waits for terminal 1.
    let b = Command::new(BIN)
        .args([
            "sql",
            "-e",
            "UPDATE acct SET bal = bal + 10 WHERE id = 1;",
            "--db",
        ])
        .arg(&db)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Longer than the old 10 s lock timeout, as a person typing would be.
    std::thread::sleep(Duration::from_secs(11));
    let mut b = b;
    assert!(
        b.try_wait().unwrap().is_none(),
        "terminal 2 gave up waiting"
    );
    assert_eq!(
        say(&mut a_reader, &mut a, "COMMIT;"),
        "Commit complete.\n\n"
    );
    let b_out = b.wait_with_output().unwrap();
    let b_text = String::from_utf8_lossy(&b_out.stdout);
    assert!(b_text.contains("(waiting for a lock)"), "{b_text}");
    assert!(b_text.contains("[main] (finished) UPDATE"), "{b_text}");
    assert!(b_text.contains("1 row updated."), "{b_text}");
    assert_eq!(b_out.status.code(), Some(0), "{b_text}");
    // Terminal 2's script ended without a COMMIT: its session rolled back
    // as it disconnected, so terminal 1's committed 90 stays.
    let check = say(&mut a_reader, &mut a, "SELECT bal FROM acct;");
    assert!(check.contains("\n 90\n"), "{check}");
    drop(a);

    // The owner stops when its input ends, and takes the socket with it.
    drop(owner.stdin.take());
    assert!(owner.wait().unwrap().success());
    assert!(!sock.exists(), "the socket was removed");
}

/// Starts `blocklab serve` on `db` and waits for its socket.
fn serve(db: &std::path::Path) -> std::process::Child {
    let owner = Command::new(BIN)
        .args(["serve", "--db"])
        .arg(db)
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !db.join("blocklab.sock").exists() {
        assert!(start.elapsed() < Duration::from_secs(60), "no socket");
        std::thread::sleep(Duration::from_millis(50));
    }
    owner
}

/// A client over the socket (terminal 1), with its reader.
fn attach(db: &std::path::Path, user: &str) -> (UnixStream, BufReader<UnixStream>) {
    let mut s = UnixStream::connect(db.join("blocklab.sock")).unwrap();
    let r = BufReader::new(s.try_clone().unwrap());
    writeln!(
        s,
        "blocklab-attach 1 format=table stats=0 echo=0 user={user}"
    )
    .unwrap();
    (s, r)
}

/// Client `alice`, attached, with table `acct` (row 1, balance 100)
/// created and committed: the start of the two-terminal exercises.
fn alice_with_an_account(db: &std::path::Path) -> (UnixStream, BufReader<UnixStream>) {
    let (mut a, mut r) = attach(db, "alice");
    for line in [
        "CREATE TABLE acct (id INTEGER PRIMARY KEY, bal INTEGER);",
        "INSERT INTO acct VALUES (1, 100);",
        "COMMIT;",
    ] {
        say(&mut r, &mut a, line);
    }
    (a, r)
}

/// Reads `child`'s stdout line by line until a line contains `needle`;
/// returns what it read.
fn read_until(out: &mut BufReader<std::process::ChildStdout>, needle: &str) -> String {
    let mut seen = String::new();
    loop {
        let mut l = String::new();
        assert!(
            out.read_line(&mut l).unwrap() > 0,
            "no {needle:?} in {seen}"
        );
        seen.push_str(&l);
        if l.contains(needle) {
            return seen;
        }
    }
}

#[test]
fn an_attached_script_waits_for_a_lock_another_client_holds() {
    // Issue 19: in an attached script, the statement after one that waits
    // for another client's lock was refused with BLK-00100 ("session main
    // is waiting"), so the script's COMMIT never ran. A script is not a
    // person at a prompt: it waits, as a sqlplus script would, until the
    // other client commits.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let mut owner = serve(&db);
    let (mut a, mut a_reader) = alice_with_an_account(&db);
    assert_eq!(
        say(
            &mut a_reader,
            &mut a,
            "UPDATE acct SET bal = bal - 10 WHERE id = 1;"
        ),
        "1 row updated.\n\n"
    );
    let script = dir.path().join("x.sql");
    std::fs::write(
        &script,
        "UPDATE acct SET bal = bal + 10 WHERE id = 1;\nCOMMIT;\nSELECT bal FROM acct;\n",
    )
    .unwrap();
    let mut b = Command::new(BIN)
        .args(["sql", "--db"])
        .arg(&db)
        .arg("-f")
        .arg(&script)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut b_out = BufReader::new(b.stdout.take().unwrap());
    let mut b_text = read_until(&mut b_out, "(waiting for a lock)");
    // b's UPDATE waits for alice; b's COMMIT, sent right behind it, must
    // wait too, not fail. The pause gives the owner time to read that
    // COMMIT while alice still holds the lock (a person would take
    // longer); the outcome does not depend on it.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        say(&mut a_reader, &mut a, "COMMIT;"),
        "Commit complete.\n\n"
    );
    std::io::Read::read_to_string(&mut b_out, &mut b_text).unwrap();
    let status = b.wait().unwrap();
    assert!(!b_text.contains("BLK-00100"), "{b_text}");
    assert!(b_text.contains("[main] (finished) UPDATE"), "{b_text}");
    assert!(b_text.contains("Commit complete."), "{b_text}");
    // 100 - 10 (alice) + 10 (the script, committed).
    assert!(b_text.contains("\n100\n"), "{b_text}");
    assert_eq!(status.code(), Some(0), "{b_text}");
    drop((a, a_reader));
    drop(owner.stdin.take());
    assert!(owner.wait().unwrap().success());
}

/// The output of a child on a pseudo-terminal, collected by a thread.
struct Screen {
    text: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Screen {
    /// Collects what the child writes to the terminal's master side.
    fn watch(master: std::fs::File) -> Screen {
        let text = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = text.clone();
        std::thread::spawn(move || {
            let mut master = master;
            let mut buf = [0u8; 4096];
            // Linux answers EIO once the child's side is closed: the end.
            while let Ok(n) = std::io::Read::read(&mut master, &mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Screen { text }
    }

    /// Waits until the screen, after byte `from`, contains `needle`;
    /// returns the end of the match.
    fn wait_for(&self, from: usize, needle: &str) -> usize {
        let start = Instant::now();
        loop {
            {
                let t = self.text.lock().unwrap();
                if let Some(at) = t[from..].find(needle) {
                    return from + at + needle.len();
                }
                assert!(
                    start.elapsed() < Duration::from_secs(60),
                    "no {needle:?} after byte {from} of:\n{t}"
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn all(&self) -> String {
        self.text.lock().unwrap().clone()
    }
}

#[test]
fn the_interactive_shell_attached_on_a_terminal_says_waiting_and_waits_on_request() {
    // Issue 19, two terminals: `blocklab shell` typed into at a terminal
    // (a pseudo-terminal here, so the shell really is interactive: it
    // reads through rustyline, TERM=dumb keeps it to plain lines), attached
    // to a serving owner, while another client holds the row. The shell
    // says at once that its session waits (BLK-00100) instead of freezing,
    // and `\wait main` shows the UPDATE once the other client committed.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let mut owner = serve(&db);
    let (mut a, mut a_reader) = alice_with_an_account(&db);
    say(
        &mut a_reader,
        &mut a,
        "UPDATE acct SET bal = bal - 10 WHERE id = 1;",
    );

    let pty = nix::pty::openpty(None, None).unwrap();
    let slave = std::fs::File::from(pty.slave);
    let mut shell = Command::new(BIN)
        .args(["shell", "--db"])
        .arg(&db)
        .env("TERM", "dumb")
        .env("HOME", dir.path())
        .stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave)
        .spawn()
        .unwrap();
    let master = std::fs::File::from(pty.master);
    let mut keys = master.try_clone().unwrap();
    let screen = Screen::watch(master);
    let mut type_line = |at: usize, line: &str| -> usize {
        // Type only at a prompt, as a person would.
        let at = screen.wait_for(at, "SQL> ");
        writeln!(keys, "{line}").unwrap();
        at
    };

    let at = screen.wait_for(0, "attached to the process that has");
    let at = type_line(at, "UPDATE acct SET bal = bal + 10 WHERE id = 1;");
    let at = screen.wait_for(at, "[main] (waiting for a lock)");
    let at = type_line(at, "COMMIT;");
    let at = screen.wait_for(
        at,
        "ERROR: BLK-00100: session main is waiting for a lock (UPDATE acct SET bal = bal + 10 \
         WHERE id = 1), this statement was not run",
    );
    // The other terminal commits; then `\wait main` prints the UPDATE.
    assert_eq!(
        say(&mut a_reader, &mut a, "COMMIT;"),
        "Commit complete.\n\n"
    );
    let at = type_line(at, "\\wait main");
    let at = screen.wait_for(
        at,
        "[main] (finished) UPDATE acct SET bal = bal + 10 WHERE id = 1",
    );
    let at = screen.wait_for(at, "1 row updated.");
    let at = type_line(at, "COMMIT;");
    let at = screen.wait_for(at, "Commit complete.");
    type_line(at, "\\quit");
    let status = shell.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{}", screen.all());
    // The shell's COMMIT after \wait landed: 100 - 10 (alice) + 10.
    let check = say(&mut a_reader, &mut a, "SELECT bal FROM acct;");
    assert!(check.contains("\n100\n"), "{check}");
    drop((a, a_reader));
    drop(owner.stdin.take());
    assert!(owner.wait().unwrap().success());
}
