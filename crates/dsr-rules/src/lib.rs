//! The rule catalog. One rule per file under `src/<family>/`, its doc comment the rule's documentation page;
//! fixtures in `tests/fixtures/<CODE>/`. [`codes`] is the one table of codes.

pub mod api;
pub mod backpressure;
pub mod codes;
pub mod consistency;
pub mod coordination;
pub mod delivery;
pub mod docs;
pub mod observability;
pub mod operations;
pub mod ordering;
pub mod resilience;
pub mod shared;
pub use dsr_semantic::sql;
pub mod state;

use dsr_semantic::RegisteredRule;

/// Every rule with its status, in code order: the [codes table](codes).
pub fn registry() -> &'static [RegisteredRule] {
    codes::CODES
}

/// Looks a rule up by code (case-insensitive) or slug: for what a user types (`explain`, the LSP's explain
/// command). Findings carry their rule's metadata.
pub fn find(code_or_slug: &str) -> Option<&'static RegisteredRule> {
    registry().iter().find(|registered| {
        let meta = registered.rule.meta();
        meta.code.eq_ignore_ascii_case(code_or_slug) || meta.slug == code_or_slug
    })
}

/// The rule codes, for configuration validation.
pub fn codes() -> Vec<&'static str> {
    registry()
        .iter()
        .map(|registered| registered.rule.meta().code)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One table, in code order, codes unique: merges of parallel rule work keep it that way.
    #[test]
    fn registry_is_sorted_by_code_and_codes_are_unique() {
        let codes = codes();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted);
    }

    #[test]
    fn slugs_are_unique_and_name_the_defect() {
        let mut slugs: Vec<&str> = registry().iter().map(|r| r.rule.meta().slug).collect();
        let count = slugs.len();
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), count);
        for slug in slugs {
            assert!(
                slug.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit()),
                "{slug}"
            );
        }
    }

    /// A rule whose questions are in preview reports its findings by default and its questions only with
    /// `preview = true`.
    #[test]
    fn questions_in_preview_need_preview() {
        use std::path::Path;

        use dsr_core::config::Selector;
        use dsr_core::{Config, Language};
        use dsr_engine::Engine;

        let source = include_str!("../tests/fixtures/BKP004/question_third_party_server.go");
        let kinds = |preview: bool| {
            let known = codes();
            let mut config = Config::default();
            config.preview = preview;
            config.override_selection(
                vec![Selector::parse("BKP004", &known).expect("a known code")],
                Vec::new(),
            );
            Engine::new(registry(), config)
                .analyze_source(Path::new("probe.go"), Language::Go, source)
                .findings
                .iter()
                .map(|f| f.is_open_question())
                .collect::<Vec<bool>>()
        };
        let with_preview = kinds(true);
        assert!(with_preview.contains(&true), "{with_preview:?}");
        assert!(!kinds(false).contains(&true));
    }
}
