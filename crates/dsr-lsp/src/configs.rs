//! Engines per configuration file. A document uses the `distsys-review.toml` found from its directory upwards
//! (so several workspace folders, and nested projects, each get their own), or the defaults when there is none.
//! A file that fails to load keeps the last configuration that loaded from it, and the error is reported once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use dsr_core::config::Selector;
use dsr_core::Config;
use dsr_engine::Engine;

use crate::settings::Settings;
use dsr_semantic::RegisteredRule;

/// `None`: no configuration file, the defaults.
pub type ConfigKey = Option<PathBuf>;

struct Entry {
    /// The last configuration that loaded (the defaults if none ever did).
    config: Config,
    engine: Arc<Engine>,
}

pub struct ConfigStore {
    registry: &'static [RegisteredRule],
    known_codes: Vec<&'static str>,
    /// Given on the command line: used for every file instead of discovery.
    fixed: Option<PathBuf>,
    entries: Mutex<HashMap<ConfigKey, Entry>>,
}

/// What happened when a configuration was (re)loaded.
pub enum LoadOutcome {
    Loaded,
    /// The error, formatted `file:line:column: problem`; the previous configuration stays in use.
    Failed(String),
}

impl ConfigStore {
    #[cfg(test)]
    pub fn new(fixed: Option<PathBuf>) -> Self {
        Self::with_registry(fixed, dsr_rules::registry())
    }

    /// With other rules than the catalog's (tests: a rule that panics).
    pub fn with_registry(fixed: Option<PathBuf>, registry: &'static [RegisteredRule]) -> Self {
        Self {
            registry,
            known_codes: registry.iter().map(|r| r.rule.meta().code).collect(),
            fixed,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The configuration file that governs `path` (a source file): the nearest `distsys-review.toml` from its
    /// folder up to the workspace folder that holds it, never above it and never a link to a file outside it
    /// (the server reads nothing outside the workspace folders). A file outside every workspace folder gets the
    /// defaults; without workspace folders, a configuration beside the file itself is used.
    pub fn key_for(&self, path: Option<&Path>, folders: &[PathBuf]) -> ConfigKey {
        if let Some(fixed) = &self.fixed {
            return Some(fixed.clone());
        }
        let dir = path?.parent()?;
        let root = if folders.is_empty() {
            dir
        } else {
            // The innermost folder, for nested workspace folders.
            folders
                .iter()
                .filter(|folder| dir.starts_with(folder))
                .max_by_key(|folder| folder.as_os_str().len())?
        };
        Config::discover_within(dir, root)
    }

    /// The engine for a key, loading the file on first use. A load error is returned with the engine built from
    /// the defaults, once; later calls return the cached engine silently.
    pub fn engine(&self, key: &ConfigKey, settings: &Settings) -> (Arc<Engine>, Option<String>) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = entries.get(key) {
            return (entry.engine.clone(), None);
        }
        let (config, error) = match key {
            None => (Config::default(), None),
            Some(path) => match Config::load(path, &self.known_codes) {
                Ok(config) => (config, None),
                Err(err) => (Config::default(), Some(err.to_string())),
            },
        };
        let engine = Arc::new(self.build(config.clone(), settings));
        entries.insert(
            key.clone(),
            Entry {
                config,
                engine: engine.clone(),
            },
        );
        (engine, error)
    }

    /// Reloads one file after it changed on disk. A deleted file is forgotten (documents re-discover).
    pub fn reload(&self, path: &Path, settings: &Settings) -> LoadOutcome {
        let key = Some(path.to_path_buf());
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if !path.is_file() {
            entries.remove(&key);
            return LoadOutcome::Loaded;
        }
        match Config::load(path, &self.known_codes) {
            Ok(config) => {
                let engine = Arc::new(self.build(config.clone(), settings));
                entries.insert(key, Entry { config, engine });
                LoadOutcome::Loaded
            }
            Err(err) => LoadOutcome::Failed(err.to_string()),
        }
    }

    /// Rebuilds every engine after the client's settings changed (rule selection lives in both).
    pub fn rebuild(&self, settings: &Settings) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        for entry in entries.values_mut() {
            entry.engine = Arc::new(self.build(entry.config.clone(), settings));
        }
    }

    /// Selectors in the client's settings that name no rule or family.
    pub fn invalid_selectors(&self, settings: &Settings) -> Vec<String> {
        settings
            .select
            .iter()
            .chain(&settings.ignore)
            .filter_map(|s| Selector::parse(s, &self.known_codes).err())
            .collect()
    }

    fn build(&self, mut config: Config, settings: &Settings) -> Engine {
        let parse = |items: &[String]| -> Vec<Selector> {
            items
                .iter()
                .filter_map(|s| Selector::parse(s, &self.known_codes).ok())
                .collect()
        };
        config.override_selection(parse(&settings.select), parse(&settings.ignore));
        let limits = &mut config.limits;
        limits.max_file_size = settings.max_file_size.unwrap_or(limits.max_file_size);
        limits.skip_generated = settings.skip_generated.unwrap_or(limits.skip_generated);
        limits.skip_minified = settings.skip_minified.unwrap_or(limits.skip_minified);
        Engine::new(self.registry, config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_reload_keeps_the_last_good_config() {
        let dir = std::env::temp_dir().join(format!("dsr-lsp-configs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("distsys-review.toml");
        std::fs::write(&file, "select = [\"DSR\"]\n").unwrap();
        let store = ConfigStore::new(None);
        let settings = Settings::default();
        let key = store.key_for(Some(&dir.join("main.rs")), std::slice::from_ref(&dir));
        assert_eq!(key.as_deref(), Some(file.as_path()));
        let (engine, error) = store.engine(&key, &settings);
        assert!(error.is_none());
        assert!(!engine.config().is_enabled("BKP001"));

        std::fs::write(&file, "select = [\"DSR\"]\nselct = []\n").unwrap();
        match store.reload(&file, &settings) {
            LoadOutcome::Failed(message) => {
                assert!(message.contains("distsys-review.toml:2:1"), "{message}")
            }
            LoadOutcome::Loaded => panic!("a broken file must not load"),
        }
        let (engine, _) = store.engine(&key, &settings);
        assert!(
            !engine.config().is_enabled("BKP001"),
            "last good config kept"
        );

        let client = Settings {
            select: vec!["BKP".into()],
            ..Settings::default()
        };
        store.rebuild(&client);
        assert!(store.engine(&key, &client).0.config().is_enabled("BKP001"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
