//! The security properties of docs/security.md that are about what the code can do at all: no networking
//! dependency, no program execution, no file writes outside `check --fix`, `--output` and `--log-file`. Each test
//! fails as soon as someone adds the capability, so that the claim is re-examined rather than silently broken.
//! (What the server reads is tested end to end in tests/lsp_limits.rs; config validation in dsr-core.)

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// `name|features` of every crate the shipped binary links (normal and build dependencies, all targets).
fn linked_crates() -> Vec<(String, Vec<String>)> {
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "--locked",
            "-e",
            "normal,build",
            "--target",
            "all",
            "-p",
            "dsr-cli",
            "--prefix",
            "none",
            "-f",
            "{p}|{f}",
        ])
        .current_dir(workspace())
        .output()
        .expect("cargo runs");
    // Offline on purpose: a test opens no connection. The tree covers every target the binary ships for, so the
    // registry must hold their crates too; scripts/test-all.sh runs `cargo fetch --locked` first.
    assert!(
        output.status.success(),
        "`cargo tree --offline --target all` failed (run `cargo fetch --locked` first, as scripts/test-all.sh \
         does, so crates of other targets are in the local registry):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| {
            let (package, features) = line.split_once('|')?;
            let name = package.split_whitespace().next()?.to_string();
            let features = features
                .trim_end_matches(" (*)")
                .split(',')
                .filter(|f| !f.is_empty())
                .map(String::from)
                .collect();
            Some((name, features))
        })
        .collect()
}

#[test]
fn the_binary_links_no_networking_code() {
    const NETWORKING: &[&str] = &[
        "hyper",
        "reqwest",
        "h2",
        "h3",
        "quinn",
        "socket2",
        "ureq",
        "curl",
        "curl-sys",
        "isahc",
        "attohttpc",
        "surf",
        "native-tls",
        "openssl",
        "openssl-sys",
        "rustls",
        "tokio-rustls",
        "tokio-native-tls",
        "trust-dns-resolver",
        "hickory-resolver",
        "tungstenite",
        "websocket",
    ];
    let crates = linked_crates();
    assert!(
        crates.iter().any(|(name, _)| name == "tokio"),
        "the tree was read"
    );
    for (name, features) in &crates {
        assert!(
            !NETWORKING.contains(&name.as_str()),
            "`{name}` is a networking crate; docs/security.md says the server opens no connections"
        );
        if name == "tokio" || name == "mio" {
            assert!(
                !features.iter().any(|f| f == "net" || f == "full"),
                "{name} with features {features:?}: its `net` feature brings sockets"
            );
        }
    }
}

/// Source files of the crates, with `#[cfg(test)]` modules cut off (tests may write temporary files).
fn sources(krate: &str) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![workspace().join("crates").join(krate).join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && !is_test_module_file(&path) {
                let text = std::fs::read_to_string(&path).unwrap();
                let code = match text.find("#[cfg(test)]") {
                    Some(at) => text[..at].to_string(),
                    None => text,
                };
                out.push((path, code));
            }
        }
    }
    assert!(!out.is_empty());
    out
}

/// A `tests.rs` its parent module declares as `#[cfg(test)] mod tests;` (the unit tests of a large module kept
/// in their own file): compiled into test builds only.
fn is_test_module_file(path: &std::path::Path) -> bool {
    if path.file_name().is_none_or(|n| n != "tests.rs") {
        return false;
    }
    let Some(dir) = path.parent() else {
        return false;
    };
    let parent = if dir.join("mod.rs").is_file() {
        dir.join("mod.rs")
    } else {
        dir.with_extension("rs")
    };
    std::fs::read_to_string(parent).is_ok_and(|text| text.contains("#[cfg(test)]\nmod tests;"))
}

const CRATES: &[&str] = &[
    "dsr-syntax",
    "dsr-core",
    "dsr-semantic",
    "dsr-rules",
    "dsr-engine",
    "dsr-lsp",
    "dsr-cli",
];

#[test]
fn no_crate_opens_sockets_or_runs_programs() {
    const FORBIDDEN: &[&str] = &[
        "std::net",
        "TcpStream",
        "TcpListener",
        "UdpSocket",
        "UnixStream",
        "UnixListener",
        "tokio::net",
        "process::Command",
        "Command::new",
        "libc::exec",
        "libc::fork",
        "libc::system",
        "libc::popen",
        "dlopen",
        "libloading",
    ];
    for krate in CRATES {
        for (path, code) in sources(krate) {
            for needle in FORBIDDEN {
                assert!(
                    !code.contains(needle),
                    "{} uses `{needle}`; see docs/security.md",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn files_are_written_only_by_check_fix_output_log_file_and_init() {
    const WRITES: &[&str] = &[
        "fs::write",
        "File::create",
        "OpenOptions",
        "fs::remove",
        "fs::rename",
        "fs::copy",
        "create_dir",
        "set_permissions",
        "hard_link",
        "fs::symlink(",
        "unix::fs::symlink",
    ];
    // The only writers: `check --fix` (fs::write of fixed files), `check --output` (File::create),
    // `check --write-baseline` (fs::write), `lsp --log-file` (OpenOptions, append), all named by the user on
    // the command line, and `init` (OpenOptions, create_new unless --force) writing distsys-review.toml;
    // and the result cache of `check`, inside its own directory only (its tag files, a bucket written to a
    // temporary and renamed, stale buckets and temporaries removed; one more fs::write in its tests).
    let allowed: &[(&str, &str, usize)] = &[
        ("commands/check.rs", "fs::write", 1),
        ("src/baseline.rs", "fs::write", 1),
        ("commands/check.rs", "File::create", 1),
        ("commands/lsp.rs", "OpenOptions", 1),
        ("commands/init.rs", "OpenOptions", 1),
        ("src/cache.rs", "create_dir", 1),
        ("src/cache.rs", "fs::write", 2),
        ("src/cache.rs", "File::create", 1),
        ("src/cache.rs", "fs::rename", 1),
        ("src/cache.rs", "fs::remove", 2),
    ];
    for krate in CRATES {
        for (path, code) in sources(krate) {
            for needle in WRITES {
                let found = code.matches(needle).count();
                let budget = allowed
                    .iter()
                    .filter(|(file, n, _)| {
                        *krate == "dsr-cli" && path.ends_with(file) && n == needle
                    })
                    .map(|(_, _, count)| *count)
                    .sum::<usize>();
                assert!(
                    found <= budget,
                    "{} uses `{needle}` {found} time(s); docs/security.md lists every writer",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn the_server_never_writes_to_the_workspace() {
    // Workspace edits go to the client, which applies them: the server has no write path of its own.
    for (path, code) in sources("dsr-lsp") {
        for needle in ["std::fs::write", "File::create", "OpenOptions", "io::Write"] {
            assert!(!code.contains(needle), "{} uses `{needle}`", path.display());
        }
    }
}
