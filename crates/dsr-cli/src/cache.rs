//! The result cache of `check`, as ruff's and ESLint's: each file's findings, kept under a cache directory and
//! reused while nothing they depend on has changed, so a re-scan of an unchanged tree reads and hashes the
//! files but analyses none of them.
//!
//! **What a result depends on.** A file's findings follow from its text and its path (code roles read the
//! path), the tool (its rules, knowledge base and code), the configuration, and — with the workspace
//! index — what the analysis read of the index. The tool and the configuration choose a *bucket* (one file,
//! `<cache dir>/v2/<hash>.json`, holding the entries of one tool, configuration and root); the path names an
//! *entry* in it; the text and the workspace's fingerprint ([`Workspace`]) make the entry's [`FileKey`]. An
//! entry whose key matches is a hit without building the index (an unchanged tree). After a change, the index
//! is built, and an entry of the same text still holds when the new index answers every question its analysis
//! asked of the index alike (its [`AnalysisReads`]): only the changed files and those whose reads of the index
//! changed (the callers of a changed helper, say) are analysed again. What an analysis read is kept beside the
//! bucket, one file per source file (`<hash>.files/<hash of the path>.reads.json`), and the entry holds the
//! hash of that file's bytes: an unchanged tree's re-scan reads only the bucket, and a run holds no reads in
//! memory but the one file's it checks. The index's summaries are kept there too ([`Summaries`]). The tool is
//! its version and the identity of the running binary (size and modification time), so a rebuilt binary never
//! reads the results of the one before; the configuration is every setting, hashed whole, and the rules it
//! enables.
//!
//! **Concurrent runs and damage.** A bucket is read once when the run starts and written once when it ends:
//! whole, to a temporary file in the same directory, then renamed over the old one. A reader sees the old
//! bucket or the new one, never part of one; of two runs that end together, the later rename wins and the
//! other's new entries are lost, to be computed again next time — never mixed. A bucket that cannot be read or
//! parsed (truncated, edited, an older format) is ignored, and the run writes a good one in its place. Files
//! whose analysis had a rule failure are not cached, so the failure is reported again. A bucket no run wrote for
//! a week (an old build's, an old configuration's) is removed when another is written.
//!
//! The directory holds a `CACHEDIR.TAG` (backup tools skip it) and a `.gitignore` of `*` (git ignores it, and
//! so does the walk of `check`, which respects ignore files).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use dsr_core::Finding;
use dsr_engine::index::{AnalysisReads, FileSummary, SummaryPass, SummaryStore};
use dsr_semantic::index::Place;
use serde::{Deserialize, Serialize};

/// The directory `check` caches results in, under the root, unless `--cache-dir` says otherwise.
pub const DEFAULT_DIR: &str = ".distsys-review-cache";

/// The bucket format; a bucket of another format is not read.
const FORMAT: &str = "v2";

const CACHEDIR_TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by distsys-review.\n\
# For information about cache directory tags see https://bford.info/cachedir/\n";

/// A 128-bit hash, written as 32 hex digits in the bucket.
pub type Digest = u128;

fn digest(bytes: &[u8]) -> Digest {
    xxhash_rust::xxh3::xxh3_128(bytes)
}

/// What an entry's findings were computed from, besides the file's path: its text, and what its analysis read
/// of other files (with the workspace index: the [`Workspace`] fingerprint, added with
/// [`FileKey::with_dependency`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileKey {
    content: Digest,
    dependencies: Digest,
}

impl FileKey {
    pub fn of(text: &str) -> Self {
        Self {
            content: digest(text.as_bytes()),
            dependencies: 0,
        }
    }

    /// Adds something the file's findings depend on (its hash): when it changes, the entry misses.
    pub fn with_dependency(self, summary: Digest) -> Self {
        let mut bytes = [0u8; 32];
        bytes[..16].copy_from_slice(&self.dependencies.to_le_bytes());
        bytes[16..].copy_from_slice(&summary.to_le_bytes());
        Self {
            dependencies: digest(&bytes),
            ..self
        }
    }

    /// The key of a text whose hash is `content`.
    pub fn from_content(content: Digest) -> Self {
        Self {
            content,
            dependencies: 0,
        }
    }

    /// The hash of the file's text alone.
    pub fn content(self) -> Digest {
        self.content
    }

    fn text(self) -> String {
        format!("{:032x}{:032x}", self.content, self.dependencies)
    }

    /// Whether `text` (a key's [`FileKey::text`]) is of the same file text.
    fn same_content(self, text: &str) -> bool {
        text.get(..32) == Some(format!("{:032x}", self.content).as_str())
    }
}

/// What the workspace index reads, as one hash: every indexed file's path, text and place in its language's
/// module system ([`Place`]: the package, crate and module, tsconfig aliases it is named by, read from the
/// `go.mod`, `Cargo.toml` or `tsconfig.json` above it — an edit of a manifest alone renames what the file
/// declares and what its imports reach). An entry whose key carries the fingerprint of the tree hits without
/// the index being built; after a change, entries are checked against the new index by what they read of it
/// ([`Cache::get_if`]).
#[derive(Default)]
pub struct Workspace {
    files: Vec<(String, Digest, Digest)>,
}

impl Workspace {
    pub fn add(&mut self, display: &str, content: Digest, place: Option<&Place>) {
        // The bucket is the binary's own (`tool_identity`), so the place's debug form only has to be stable
        // within one build.
        let place = digest(format!("{place:?}").as_bytes());
        self.files.push((display.to_string(), content, place));
    }

    /// The fingerprint, independent of the order files were added in.
    pub fn fingerprint(mut self) -> Digest {
        self.files.sort_unstable();
        let mut bytes = Vec::with_capacity(self.files.len() * 64);
        for (display, content, place) in &self.files {
            bytes.extend_from_slice(display.as_bytes());
            bytes.push(0);
            bytes.extend_from_slice(&content.to_le_bytes());
            bytes.extend_from_slice(&place.to_le_bytes());
        }
        digest(&bytes)
    }
}

/// Which tool and configuration made the results: chooses the bucket.
#[derive(Clone, Debug)]
pub struct BucketKey(String);

impl BucketKey {
    /// `tool` identifies the program (see [`tool_identity`]), `configuration` every setting that can change a
    /// finding, `root` the directory paths are shown relative to.
    pub fn new(tool: &str, configuration: &str, root: &Path) -> Self {
        let mut text = String::new();
        for part in [tool, configuration, &root.to_string_lossy()] {
            text.push_str(&part.len().to_string());
            text.push(':');
            text.push_str(part);
        }
        Self(format!("{:032x}", digest(text.as_bytes())))
    }
}

/// The program's version and the running binary's size and modification time: a rebuilt binary (new rules,
/// new knowledge base) starts a new bucket even when the version number stayed the same.
pub fn tool_identity() -> String {
    let binary = std::env::current_exe()
        .and_then(std::fs::metadata)
        .map(|meta| {
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{} {modified}", meta.len())
        })
        .unwrap_or_default();
    format!(
        "{} {} {binary}",
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION")
    )
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    key: String,
    findings: Vec<Finding>,
    /// With the workspace index: the hash of the file that holds everything the analysis read of it, with the
    /// answers ([`AnalysisReads`]; `None`: analysed without a view of the index). When the workspace changed
    /// (the key's dependency misses), the entry still holds if the new index answers all of it alike. A reads
    /// file of other bytes (another run's analysis of the file, or damage) is no match.
    #[serde(default)]
    reads: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Bucket {
    format: String,
    /// Display path (relative to the root) → entry.
    files: HashMap<String, Entry>,
}

/// One run's view of its bucket: the entries read when it opened, and those it computed.
pub struct Cache {
    dir: PathBuf,
    bucket: PathBuf,
    read: Bucket,
    /// The bucket could not be read as one: write it even without new entries.
    damaged: bool,
    computed: Mutex<Vec<(String, Entry)>>,
}

/// Gives each temporary file of this process its own name.
static NEXT_TEMPORARY: AtomicU64 = AtomicU64::new(0);

impl Cache {
    /// Opens the bucket of `key` under `dir`, creating the directory with its tag and ignore file when missing.
    /// Errors only when the directory cannot be made; a missing or unreadable bucket is an empty one.
    pub fn open(dir: &Path, key: &BucketKey) -> std::io::Result<Self> {
        let buckets = dir.join(FORMAT);
        std::fs::create_dir_all(&buckets)?;
        for (name, text) in [
            (".gitignore", "# Made by distsys-review.\n*\n"),
            ("CACHEDIR.TAG", CACHEDIR_TAG),
        ] {
            let path = dir.join(name);
            if !path.exists() {
                // Another run may be writing it at the same moment: same text, so either write is right.
                std::fs::write(&path, text)?;
            }
        }
        let bucket = buckets.join(format!("{}.json", key.0));
        let (read, damaged) = match std::fs::read(&bucket) {
            Ok(bytes) => match dsr_core::finding::with_rule_lookup(rule_meta, || {
                serde_json::from_slice::<Bucket>(&bytes)
            }) {
                Ok(read) if read.format == FORMAT => (read, false),
                Ok(_) => (Bucket::default(), true),
                Err(err) => {
                    tracing::warn!(
                        "{}: unreadable cache bucket ({err}); rewriting it",
                        bucket.display()
                    );
                    (Bucket::default(), true)
                }
            },
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => (Bucket::default(), false),
            Err(err) => {
                tracing::warn!(
                    "{}: cannot read the cache ({err}); rewriting it",
                    bucket.display()
                );
                (Bucket::default(), true)
            }
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            bucket,
            read,
            damaged,
            computed: Mutex::new(Vec::new()),
        })
    }

    /// The findings cached for the file shown as `display`, when they were computed from the same `key`.
    pub fn get(&self, display: &str, key: FileKey) -> Option<Vec<Finding>> {
        let entry = self.read.files.get(display)?;
        (entry.key == key.text()).then(|| entry.findings.clone())
    }

    /// Whether the file shown as `display` has an entry computed from the same `key`.
    pub fn has(&self, display: &str, key: FileKey) -> bool {
        self.read
            .files
            .get(display)
            .is_some_and(|entry| entry.key == key.text())
    }

    /// The findings cached for the file shown as `display` from the same text, when `still_holds` says that
    /// what the analysis read of the workspace index is answered alike now; with the hash of what it read, to
    /// keep the entry under a new key ([`Cache::put_held`]).
    pub fn get_if(
        &self,
        display: &str,
        key: FileKey,
        still_holds: impl FnOnce(Option<&AnalysisReads>) -> bool,
    ) -> Option<(Vec<Finding>, Option<String>)> {
        let entry = self.read.files.get(display)?;
        if !key.same_content(&entry.key) {
            return None;
        }
        let holds = match &entry.reads {
            None => still_holds(None),
            Some(hash) => {
                let bytes = std::fs::read(self.reads_file(display)).ok()?;
                if format!("{:032x}", digest(&bytes)) != *hash {
                    return None;
                }
                let reads: AnalysisReads = serde_json::from_slice(&bytes).ok()?;
                still_holds(Some(&reads))
            }
        };
        holds.then(|| (entry.findings.clone(), entry.reads.clone()))
    }

    /// Records the findings computed for a file, to be written by [`Cache::save`].
    #[cfg(test)]
    pub fn put(&self, display: &str, key: FileKey, findings: &[Finding]) {
        self.put_read(display, key, None, findings);
    }

    /// [`Cache::put`] with what the analysis read of the workspace index, written beside the bucket now.
    pub fn put_read(
        &self,
        display: &str,
        key: FileKey,
        reads: Option<&AnalysisReads>,
        findings: &[Finding],
    ) {
        let hash = match reads {
            None => None,
            Some(reads) => {
                let Ok(bytes) = serde_json::to_vec(reads) else {
                    return;
                };
                let file = self.reads_file(display);
                // Without its reads the entry could not be checked: then it is not kept.
                if std::fs::create_dir_all(files_of(&self.bucket)).is_err()
                    || write_whole(&file, &bytes, false).is_err()
                {
                    return;
                }
                Some(format!("{:032x}", digest(&bytes)))
            }
        };
        self.put_held(display, key, hash, findings.to_vec());
    }

    /// Keeps an entry under `key`, its reads (by hash, from [`Cache::get_if`]) already beside the bucket.
    pub fn put_held(
        &self,
        display: &str,
        key: FileKey,
        reads: Option<String>,
        findings: Vec<Finding>,
    ) {
        let entry = Entry {
            key: key.text(),
            findings,
            reads,
        };
        self.computed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((display.to_string(), entry));
    }

    fn reads_file(&self, display: &str) -> PathBuf {
        let name = digest(display.as_bytes());
        files_of(&self.bucket).join(format!("{name:032x}.reads.json"))
    }

    /// Writes the bucket — the entries read, updated with those computed — when anything changed. Entries of
    /// files this run did not visit are kept (a run over a subdirectory leaves the rest), except those whose
    /// file is gone: `exists` is asked about them.
    pub fn save(self, exists: impl Fn(&str) -> bool) -> std::io::Result<()> {
        let computed = self
            .computed
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut bucket = self.read;
        let changed = !computed.is_empty()
            || self.damaged
            || bucket.files.keys().any(|display| !exists(display));
        if !changed {
            return Ok(());
        }
        bucket.files.retain(|display, _| exists(display));
        bucket.files.extend(computed);
        bucket.format = FORMAT.to_string();
        let bytes = serde_json::to_vec(&bucket).map_err(std::io::Error::other)?;
        write_whole(&self.bucket, &bytes, true)?;
        prune(self.bucket.parent().unwrap_or(&self.dir));
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where this bucket's tool and configuration keep the workspace index's summaries ([`Summaries`]).
    pub fn summaries(&self) -> Summaries {
        Summaries {
            dir: files_of(&self.bucket),
            taken: AtomicUsize::new(0),
            made: AtomicUsize::new(0),
        }
    }
}

/// The directory of a bucket's files per source file (reads and summaries), beside it: `<hash>.files/`.
fn files_of(bucket: &Path) -> PathBuf {
    bucket.with_extension("files")
}

/// The workspace index's summaries of one tool and configuration, kept so that a re-scan after a change
/// parses only the files whose summaries cannot be taken as kept ([`SummaryStore`]). One file per source file
/// and pass (`<hash>.files/<hash of the path>.first.json`, `.again.json`), holding the hash of the text it was made of, the
/// summary, and what it asked of the workspace's declarations with the answers. Unlike the bucket, each is
/// written as soon as it is made (whole, to a temporary file renamed over the old one), so that a run holds
/// no summary it does not use: a reader sees an old entry or a new one; one that cannot be read or is of
/// another text is ignored, and the summary is made and written again.
pub struct Summaries {
    dir: PathBuf,
    /// How many summaries were taken as kept, and how many were made (counted for tests and measurements).
    taken: AtomicUsize,
    made: AtomicUsize,
}

#[derive(Deserialize)]
struct StoredSummary {
    content: String,
    summary: FileSummary,
    reads: AnalysisReads,
}

#[derive(Serialize)]
struct StoringSummary<'a> {
    content: String,
    summary: &'a FileSummary,
    reads: &'a AnalysisReads,
}

impl Summaries {
    /// How many summaries were taken as kept, and how many made (and kept).
    pub fn counts(&self) -> (usize, usize) {
        (
            self.taken.load(Ordering::Relaxed),
            self.made.load(Ordering::Relaxed),
        )
    }

    fn file(&self, path: &Path, pass: SummaryPass) -> PathBuf {
        let pass = match pass {
            SummaryPass::First => "first",
            SummaryPass::Again => "again",
        };
        let name = digest(path.to_string_lossy().as_bytes());
        self.dir.join(format!("{name:032x}.{pass}.json"))
    }
}

impl SummaryStore for Summaries {
    fn get(
        &self,
        path: &Path,
        text: &str,
        pass: SummaryPass,
    ) -> Option<(FileSummary, AnalysisReads)> {
        let bytes = std::fs::read(self.file(path, pass)).ok()?;
        let stored: StoredSummary = serde_json::from_slice(&bytes).ok()?;
        let same = stored.content == format!("{:032x}", digest(text.as_bytes()));
        self.taken.fetch_add(usize::from(same), Ordering::Relaxed);
        same.then_some((stored.summary, stored.reads))
    }

    fn put(
        &self,
        path: &Path,
        text: &str,
        pass: SummaryPass,
        summary: &FileSummary,
        reads: &AnalysisReads,
    ) {
        self.made.fetch_add(1, Ordering::Relaxed);
        let stored = StoringSummary {
            content: format!("{:032x}", digest(text.as_bytes())),
            summary,
            reads,
        };
        let Ok(bytes) = serde_json::to_vec(&stored) else {
            return;
        };
        // Failures only cost a parse next time.
        if std::fs::create_dir_all(&self.dir).is_ok() {
            let _ = write_whole(&self.file(path, pass), &bytes, false);
        }
    }
}

/// Writes `bytes` to `path` whole: to a temporary file beside it, renamed over it (`sync`: its data on disk
/// first).
fn write_whole(path: &Path, bytes: &[u8], sync: bool) -> std::io::Result<()> {
    let temporary = path.with_extension(format!(
        "tmp.{}.{}",
        std::process::id(),
        NEXT_TEMPORARY.fetch_add(1, Ordering::Relaxed)
    ));
    let written = std::fs::File::create(&temporary).and_then(|mut file| {
        file.write_all(bytes)?;
        if sync {
            file.sync_data()?;
        }
        Ok(())
    });
    let renamed = written.and_then(|()| std::fs::rename(&temporary, path));
    if renamed.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    renamed
}

/// A bucket nobody wrote for this long belongs to a binary or configuration no longer in use (every build of
/// the program starts a bucket of its own).
const STALE_BUCKET: Duration = Duration::from_secs(7 * 24 * 3600);

/// A temporary file this old was left by a run that died between writing and renaming it.
const STALE_TEMPORARY: Duration = Duration::from_secs(3600);

/// Removes stale buckets and temporary files from `buckets`; failures are harmless and ignored.
fn prune(buckets: &Path) {
    let Ok(entries) = std::fs::read_dir(buckets) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let limit = if name.contains(".tmp.") {
            STALE_TEMPORARY
        } else if name.ends_with(".json") {
            STALE_BUCKET
        } else {
            continue;
        };
        let age = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| now.duration_since(modified).ok());
        if age.is_some_and(|age| age > limit) {
            let _ = std::fs::remove_file(entry.path());
            if limit == STALE_BUCKET {
                // Its files per source file go with it.
                let _ = std::fs::remove_dir_all(files_of(&entry.path()));
            }
        }
    }
}

fn rule_meta(code: &str) -> Option<&'static dsr_core::RuleMeta> {
    dsr_rules::find(code).map(|registered| registered.rule.meta())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsr_core::TextRange;

    fn finding(title: &str) -> Finding {
        let rule = rule_meta("RES007").expect("RES007");
        Finding {
            rule,
            title: title.into(),
            severity: dsr_core::Severity::High,
            impact: rule.impact,
            kind: dsr_core::FindingKind::Finding,
            confidence: dsr_core::finding::Confidence::Medium,
            range: TextRange::new(3, 9),
            component: "Client.Fetch".into(),
            trigger: "t".into(),
            expected: "e".into(),
            actual: "a".into(),
            evidence: vec![dsr_core::finding::Evidence {
                path: None,
                range: TextRange::new(1, 2),
                note: "n".into(),
            }],
            fix: Some(dsr_core::Fix::advice("close it")),
            role: dsr_core::CodeRole::default(),
        }
    }

    fn key(configuration: &str) -> BucketKey {
        BucketKey::new("distsys-review test", configuration, Path::new("/r"))
    }

    #[test]
    fn an_entry_is_read_back_whole_by_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), &key("c")).unwrap();
        let text = "package a\n";
        assert_eq!(cache.get("a.go", FileKey::of(text)), None, "a cold cache");
        cache.put("a.go", FileKey::of(text), &[finding("one")]);
        cache.save(|_| true).unwrap();
        assert!(dir.path().join("CACHEDIR.TAG").is_file());
        assert!(std::fs::read_to_string(dir.path().join(".gitignore"))
            .unwrap()
            .contains('*'));

        let cache = Cache::open(dir.path(), &key("c")).unwrap();
        assert_eq!(
            cache.get("a.go", FileKey::of(text)),
            Some(vec![finding("one")])
        );
        // Another path with the same text is another entry (roles read the path).
        assert_eq!(cache.get("b.go", FileKey::of(text)), None);
    }

    #[test]
    fn a_change_of_text_configuration_tool_or_dependency_misses() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), &key("c")).unwrap();
        cache.put("a.go", FileKey::of("package a\n"), &[]);
        cache.save(|_| true).unwrap();

        let cache = Cache::open(dir.path(), &key("c")).unwrap();
        assert_eq!(cache.get("a.go", FileKey::of("package a\n")), Some(vec![]));
        assert_eq!(cache.get("a.go", FileKey::of("package b\n")), None, "text");
        assert_eq!(
            cache.get("a.go", FileKey::of("package a\n").with_dependency(7)),
            None,
            "a dependency's summary"
        );
        let other_config = Cache::open(dir.path(), &key("c2")).unwrap();
        assert_eq!(other_config.get("a.go", FileKey::of("package a\n")), None);
        let other_tool = Cache::open(
            dir.path(),
            &BucketKey::new("distsys-review 9.9", "c", Path::new("/r")),
        )
        .unwrap();
        assert_eq!(other_tool.get("a.go", FileKey::of("package a\n")), None);
        assert_ne!(
            FileKey::of("x").with_dependency(1).with_dependency(2),
            FileKey::of("x").with_dependency(2).with_dependency(1),
            "dependencies in order"
        );
    }

    #[test]
    fn an_entry_of_the_same_text_holds_when_its_reads_are_answered_alike() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), &key("c")).unwrap();
        let reads = AnalysisReads::default();
        let here = FileKey::of("a").with_dependency(1);
        cache.put_read("a.go", here, Some(&reads), &[finding("one")]);
        cache.save(|_| true).unwrap();
        let cache = Cache::open(dir.path(), &key("c")).unwrap();
        // Another workspace: the exact key misses, the entry holds if its reads do.
        let elsewhere = FileKey::of("a").with_dependency(2);
        assert_eq!(cache.get("a.go", elsewhere), None);
        let held = cache.get_if("a.go", FileKey::of("a"), |kept| kept == Some(&reads));
        assert_eq!(
            held.map(|(findings, _)| findings),
            Some(vec![finding("one")])
        );
        assert_eq!(cache.get_if("a.go", FileKey::of("a"), |_| false), None);
        assert_eq!(
            cache.get_if("a.go", FileKey::of("b"), |_| true),
            None,
            "text"
        );
        // Reads of other bytes (damaged, or another run's): no match.
        std::fs::write(cache.reads_file("a.go"), b"{\"types\":[],\"lookups\":[]} ").unwrap();
        assert_eq!(
            cache.get_if("a.go", FileKey::of("a"), |_| true),
            None,
            "damaged"
        );
    }

    #[test]
    fn summaries_are_read_back_only_for_the_same_text_and_damage_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), &key("c")).unwrap();
        let summaries = cache.summaries();
        let path = Path::new("billing/gateway.go");
        let summary = FileSummary::default();
        let reads = AnalysisReads::default();
        assert_eq!(summaries.get(path, "a", SummaryPass::First), None);
        summaries.put(path, "a", SummaryPass::First, &summary, &reads);
        assert_eq!(
            summaries.get(path, "a", SummaryPass::First),
            Some((summary.clone(), reads.clone()))
        );
        assert_eq!(summaries.get(path, "b", SummaryPass::First), None, "text");
        assert_eq!(summaries.get(path, "a", SummaryPass::Again), None, "pass");
        assert_eq!(summaries.counts(), (1, 1));
        let file = summaries.file(path, SummaryPass::First);
        for damage in [b"{\"content\":".to_vec(), b"not json".to_vec(), Vec::new()] {
            std::fs::write(&file, damage).unwrap();
            assert_eq!(summaries.get(path, "a", SummaryPass::First), None);
            summaries.put(path, "a", SummaryPass::First, &summary, &reads);
            assert!(
                summaries.get(path, "a", SummaryPass::First).is_some(),
                "rewritten"
            );
        }
    }

    #[test]
    fn a_damaged_bucket_is_ignored_and_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), &key("c")).unwrap();
        cache.put("a.go", FileKey::of("a"), &[finding("one")]);
        let bucket = cache.bucket.clone();
        cache.save(|_| true).unwrap();
        let good = std::fs::read(&bucket).unwrap();
        for damage in [
            good[..good.len() / 2].to_vec(),
            b"not json".to_vec(),
            Vec::new(),
            br#"{"format":"v0","files":{}}"#.to_vec(),
            String::from_utf8(good.clone())
                .unwrap()
                .replace("RES007", "XXX999")
                .into_bytes(),
        ] {
            std::fs::write(&bucket, &damage).unwrap();
            let cache = Cache::open(dir.path(), &key("c")).unwrap();
            assert_eq!(cache.get("a.go", FileKey::of("a")), None);
            cache.save(|_| true).unwrap();
            let rewritten = std::fs::read(&bucket).unwrap();
            assert_ne!(rewritten, damage, "rewritten");
            let cache = Cache::open(dir.path(), &key("c")).unwrap();
            assert!(!cache.damaged, "the rewritten bucket reads");
        }
    }

    #[test]
    fn concurrent_runs_leave_a_whole_bucket() {
        let dir = tempfile::tempdir().unwrap();
        let threads: Vec<_> = (0..8)
            .map(|run| {
                let dir = dir.path().to_path_buf();
                std::thread::spawn(move || {
                    for round in 0..20 {
                        let cache = Cache::open(&dir, &key("c")).unwrap();
                        for file in 0..20 {
                            let display = format!("f{file}.go");
                            let text = format!("{run} {round} {file}");
                            cache.put(&display, FileKey::of(&text), &[finding(&text)]);
                        }
                        cache.save(|_| true).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let cache = Cache::open(dir.path(), &key("c")).unwrap();
        assert!(!cache.damaged);
        assert_eq!(cache.read.files.len(), 20);
        // Each entry is one run's, whole: its findings match its key.
        for (display, entry) in &cache.read.files {
            let title = &entry.findings[0].title;
            assert_eq!(entry.key, FileKey::of(title).text(), "{display}");
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join(FORMAT))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp."))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn entries_of_deleted_files_are_dropped_and_others_kept() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), &key("c")).unwrap();
        cache.put("kept.go", FileKey::of("k"), &[]);
        cache.put("gone.go", FileKey::of("g"), &[]);
        cache.save(|_| true).unwrap();
        let cache = Cache::open(dir.path(), &key("c")).unwrap();
        cache.save(|display| display != "gone.go").unwrap();
        let cache = Cache::open(dir.path(), &key("c")).unwrap();
        assert_eq!(cache.get("kept.go", FileKey::of("k")), Some(vec![]));
        assert_eq!(cache.get("gone.go", FileKey::of("g")), None);
    }
}
