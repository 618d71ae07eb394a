//! `docs/libraries.md` is generated from the knowledge base; this test fails when the committed page is stale.
//! Run with `UPDATE_DOCS=1` to rewrite it.

use std::path::PathBuf;

use dsr_core::KnowledgeBase;

#[test]
fn libraries_page_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/libraries.md");
    let expected = dsr_rules::docs::libraries_page(KnowledgeBase::builtin());
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &expected).expect("docs/libraries.md is writable");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == expected,
        "docs/libraries.md is stale: run `UPDATE_DOCS=1 cargo test -p dsr-rules --test libraries_doc`"
    );
}

#[test]
fn covers_at_least_sixty_client_libraries() {
    let kb = KnowledgeBase::builtin();
    let count = kb.libraries().count();
    assert!(count >= 60, "{count} libraries");
    for family in ["go", "rust", "typescript"] {
        assert!(
            kb.libraries()
                .filter(|(l, _)| l.family_name() == family)
                .count()
                >= 15,
            "{family} has fewer than 15 libraries"
        );
    }
}
