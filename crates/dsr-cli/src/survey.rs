//! What `distsys-review init` learns about a repository before it writes a configuration: the languages of its
//! files, the database its SQL is written for, its components, and the datastores and queues its code calls.
//! Everything comes from the same walk, intake and models `check` uses, so that the file describes what a check
//! will see, and nothing is guessed:
//!
//! - **SQL dialect**: the evidence `dsr_semantic::sql_dialect` weighs for OPS001 — a path part naming a
//!   database, syntax only one database writes, the driver a code file imports. Files with no evidence of
//!   their own are not counted (PostgreSQL is only the fallback).
//! - **Components**: folders holding their own `go.mod`, `package.json` or a `Cargo.toml` with a `[package]`
//!   (a virtual workspace's root is not one), found from the source files upwards, so a folder without code
//!   is not a component.
//! - **Datastores and queues**: library calls the knowledge base marks as remote, of kind `db`, `cache`,
//!   `queue`, `object-store` or `lock`, named by the import they come through.
//!
//! Test and example code (by code role, docs/configuration.md) define neither components nor stores: a test's
//! Redis client says nothing about production.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use dsr_core::config::SqlDatabase;
use dsr_core::kb::{module_matches, ApiKind, KnowledgeBase};
use dsr_core::{CodeRole, Config, Language};
use dsr_engine::Intake;
use dsr_semantic::facts::FileFacts;
use dsr_semantic::models::remote::RemoteCalls;
use dsr_semantic::roles::CodeRoles;
use dsr_semantic::sql_dialect::{code_dialect, sql_file_dialect, DialectEvidence};
use dsr_semantic::KbMatch;
use rayon::prelude::*;

use crate::scan;

/// One piece of evidence for a database.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DialectClue {
    /// The file, relative to the root.
    pub path: String,
    /// What in it names the database: "`ENGINE = InnoDB`", "the folder `mysql`", "the driver `pgx`".
    pub evidence: String,
    pub database: DatabaseName,
}

/// A database as `[sql] dialect` spells it (ordered, for stable output).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DatabaseName {
    Postgres,
    Mysql,
    Sqlite,
    Clickhouse,
}

impl DatabaseName {
    fn of(database: SqlDatabase) -> Option<DatabaseName> {
        match database {
            SqlDatabase::PostgreSql => Some(DatabaseName::Postgres),
            SqlDatabase::MySql => Some(DatabaseName::Mysql),
            SqlDatabase::Sqlite => Some(DatabaseName::Sqlite),
            SqlDatabase::ClickHouse => Some(DatabaseName::Clickhouse),
            SqlDatabase::Other => None,
        }
    }

    /// The value `[sql] dialect` takes.
    pub fn key(self) -> &'static str {
        match self {
            DatabaseName::Postgres => "postgres",
            DatabaseName::Mysql => "mysql",
            DatabaseName::Sqlite => "sqlite",
            DatabaseName::Clickhouse => "clickhouse",
        }
    }

    /// How people write it.
    pub fn title(self) -> &'static str {
        match self {
            DatabaseName::Postgres => SqlDatabase::PostgreSql.name(),
            DatabaseName::Mysql => SqlDatabase::MySql.name(),
            DatabaseName::Sqlite => SqlDatabase::Sqlite.name(),
            DatabaseName::Clickhouse => SqlDatabase::ClickHouse.name(),
        }
    }
}

/// A folder with its own manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Component {
    /// Relative to the root, ending in `/`; `""` for the root itself.
    pub folder: String,
    /// The manifests found there: `go.mod`, `Cargo.toml`, `package.json`.
    pub manifests: Vec<&'static str>,
    /// The languages of its source files (its own, not those of components inside it).
    pub languages: BTreeSet<&'static str>,
}

/// What kind of stateful system a store is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StoreKind {
    Database,
    Cache,
    Queue,
    ObjectStore,
    Lock,
}

impl StoreKind {
    fn of(kind: ApiKind) -> Option<StoreKind> {
        match kind {
            ApiKind::Db => Some(StoreKind::Database),
            ApiKind::Cache => Some(StoreKind::Cache),
            ApiKind::Queue => Some(StoreKind::Queue),
            ApiKind::ObjectStore => Some(StoreKind::ObjectStore),
            ApiKind::Lock => Some(StoreKind::Lock),
            ApiKind::Http | ApiKind::Rpc | ApiKind::Socket | ApiKind::Local => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StoreKind::Database => "database",
            StoreKind::Cache => "cache",
            StoreKind::Queue => "queue",
            StoreKind::ObjectStore => "object store",
            StoreKind::Lock => "lock service",
        }
    }
}

/// A library the code calls a store through, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Store {
    pub kind: StoreKind,
    /// The import the calls come through (`github.com/redis/go-redis/v9`, `sqlx`, `kafkajs`).
    pub library: String,
    /// Files with such calls, relative to the root, sorted.
    pub files: Vec<String>,
}

/// Everything `init` found.
#[derive(Clone, Debug, Default)]
pub struct Survey {
    /// Source files per language (display name), test and example code included.
    pub languages: BTreeMap<&'static str, usize>,
    pub sql_files: usize,
    /// SQL dialect evidence, sorted by path.
    pub dialects: Vec<DialectClue>,
    /// Sorted by folder.
    pub components: Vec<Component>,
    /// Sorted by kind, then library.
    pub stores: Vec<Store>,
    /// Files that could not be read or parsed (the same reasons `check` skips them).
    pub skipped: usize,
}

/// What one file tells.
#[derive(Default)]
struct FileSurvey {
    language: Option<&'static str>,
    sql: bool,
    clue: Option<DialectClue>,
    /// Production (in scope) code: it may define a component.
    counts: bool,
    stores: Vec<(StoreKind, String)>,
}

/// Surveys the tree under `root` (absolute) with the default configuration: what a first `check` would read.
pub fn survey(root: &Path) -> Survey {
    let config = Config::default();
    let discovery = scan::discover(&[root.to_path_buf()], root, &config);
    let intake = Intake::new(&config, root);
    let kb = KnowledgeBase::builtin();
    let results: Vec<(scan::Candidate, Option<FileSurvey>)> = discovery
        .files
        .into_par_iter()
        .map(|candidate| {
            let found = scan::load(&candidate, &intake)
                .ok()
                .and_then(|file| survey_file(&file, kb, intake.limits().parse_timeout));
            (candidate, found)
        })
        .collect();
    let mut survey = Survey {
        skipped: discovery.skipped.len(),
        ..Survey::default()
    };
    let mut stores: BTreeMap<(StoreKind, String), BTreeSet<String>> = BTreeMap::new();
    let mut manifests = ManifestCache::default();
    let mut components: BTreeMap<String, Component> = BTreeMap::new();
    for (candidate, found) in results {
        let Some(found) = found else {
            survey.skipped += 1;
            continue;
        };
        if let Some(language) = found.language {
            *survey.languages.entry(language).or_default() += 1;
        }
        survey.sql_files += usize::from(found.sql);
        survey.dialects.extend(found.clue);
        for store in found.stores {
            stores
                .entry(store)
                .or_default()
                .insert(candidate.display.clone());
        }
        if found.counts && !found.sql {
            if let Some(folder) = manifests.component_of(&candidate.path, root) {
                let component = components
                    .entry(folder.clone())
                    .or_insert_with(|| Component {
                        folder: folder.clone(),
                        manifests: manifests.manifests(&root.join(&folder)),
                        languages: BTreeSet::new(),
                    });
                component.languages.extend(found.language);
            }
        }
    }
    survey.dialects.sort();
    survey.components = components.into_values().collect();
    survey.stores = stores
        .into_iter()
        .map(|((kind, library), files)| Store {
            kind,
            library,
            files: files.into_iter().collect(),
        })
        .collect();
    survey
}

fn survey_file(
    file: &scan::SourceFile,
    kb: &KnowledgeBase,
    parse_timeout: std::time::Duration,
) -> Option<FileSurvey> {
    let path = Path::new(&file.display);
    let mut found = FileSurvey {
        language: Some(file.language.display_name()),
        ..FileSurvey::default()
    };
    if file.language == Language::Sql {
        found.sql = true;
        found.counts = true;
        let script = dsr_semantic::sql::parse_script(&file.text);
        let inferred = sql_file_dialect(path, &script.statements, None);
        found.clue = clue(&file.display, inferred.database, &inferred.evidence);
        return Some(found);
    }
    let tree = dsr_engine::parse::parse(file.language, &file.text, parse_timeout).ok()??;
    let facts = FileFacts::compute(file.language, Some(&tree), &file.text);
    let role = CodeRoles::compute(path, &facts, &file.text).file();
    found.counts = CodeRole::DEFAULT_SCOPE.contains(&role);
    if !found.counts {
        return Some(found);
    }
    // As OPS001 reads it: import paths and string literals (Go's blank imports bind no name).
    let modules = facts
        .imports
        .iter()
        .map(|i| i.path.as_str())
        .chain(facts.strings.iter().map(|s| s.value.as_str()));
    let inferred = code_dialect(path, modules, None);
    if matches!(inferred.evidence, DialectEvidence::Driver(_)) {
        found.clue = clue(&file.display, inferred.database, &inferred.evidence);
    }
    let remote = RemoteCalls::compute(&facts, &file.text, kb);
    for (index, call) in facts.calls.iter().enumerate() {
        let Some(remote_call) = remote.remote(index).filter(|r| r.via.is_none()) else {
            continue;
        };
        let Some(kind) = StoreKind::of(remote_call.kind) else {
            continue;
        };
        let Some(api) = kb.call(&facts, call) else {
            continue;
        };
        let library = api.module.clone().unwrap_or_else(|| {
            // The longest import the API's path belongs to, else the path's first segment.
            facts
                .imports
                .iter()
                .map(|i| i.path.as_str())
                .filter(|import| module_matches(&api.path, import))
                .max_by_key(|import| import.len())
                .map_or_else(|| first_segment(&api.path), str::to_string)
        });
        if !found.stores.contains(&(kind, library.clone())) {
            found.stores.push((kind, library));
        }
    }
    Some(found)
}

fn first_segment(path: &str) -> String {
    path.split("::")
        .next()
        .and_then(|head| head.split('.').next())
        .unwrap_or(path)
        .to_string()
}

fn clue(path: &str, database: SqlDatabase, evidence: &DialectEvidence) -> Option<DialectClue> {
    let evidence = match evidence {
        DialectEvidence::Path(part) => format!("the path part `{part}`"),
        DialectEvidence::Syntax(syntax) => (*syntax).to_string(),
        DialectEvidence::Driver(module) => format!("the driver `{module}`"),
        DialectEvidence::ConfigPath | DialectEvidence::ConfigDefault | DialectEvidence::Assumed => {
            return None
        }
    };
    Some(DialectClue {
        path: path.to_string(),
        evidence,
        database: DatabaseName::of(database)?,
    })
}

/// Which folders hold a manifest, asked once per folder.
#[derive(Default)]
struct ManifestCache {
    known: HashMap<PathBuf, Vec<&'static str>>,
}

impl ManifestCache {
    const NAMES: [&'static str; 3] = ["go.mod", "Cargo.toml", "package.json"];

    fn manifests(&mut self, folder: &Path) -> Vec<&'static str> {
        self.known
            .entry(folder.to_path_buf())
            .or_insert_with(|| {
                Self::NAMES
                    .into_iter()
                    .filter(|name| {
                        let path = folder.join(name);
                        match *name {
                            // A virtual workspace's root manifest builds nothing itself.
                            "Cargo.toml" => std::fs::read_to_string(&path)
                                .is_ok_and(|text| text.lines().any(|l| l.trim() == "[package]")),
                            _ => path.is_file(),
                        }
                    })
                    .collect()
            })
            .clone()
    }

    /// The innermost folder from the file's up to the root that has a manifest, relative to the root with a
    /// trailing `/` (`""` for the root).
    fn component_of(&mut self, file: &Path, root: &Path) -> Option<String> {
        let mut folder = file.parent()?;
        loop {
            if !folder.starts_with(root) {
                return None;
            }
            if !self.manifests(folder).is_empty() {
                let relative = folder.strip_prefix(root).ok()?;
                let mut text = relative.to_string_lossy().replace('\\', "/");
                if !text.is_empty() {
                    text.push('/');
                }
                return Some(text);
            }
            if folder == root {
                return None;
            }
            folder = folder.parent()?;
        }
    }
}
