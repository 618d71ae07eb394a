//! `schemas/distsys-review.schema.json`, the JSON Schema editors complete and validate `distsys-review.toml`
//! with, is generated from the configuration's types (`dsr_core::config::json_schema`). This test fails when the
//! committed file is stale (`UPDATE_SCHEMA=1 cargo test -p dsr-cli --test config_schema` rewrites it), and checks
//! that the schema agrees with the parser: every configuration the repository ships and the example in
//! docs/configuration.md are valid, and files the parser refuses are invalid too.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn generated() -> String {
    let mut text = serde_json::to_string_pretty(&dsr_core::config::json_schema()).unwrap();
    text.push('\n');
    text
}

#[test]
fn the_committed_schema_is_current() {
    let path = repo().join("schemas/distsys-review.schema.json");
    let fresh = generated();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "schemas/distsys-review.schema.json is stale (run `UPDATE_SCHEMA=1 cargo test -p dsr-cli --test config_schema`)"
    );
}

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&generated()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn as_json(toml_text: &str) -> Value {
    let value: toml::Value = toml::from_str(toml_text).unwrap();
    serde_json::to_value(value).unwrap()
}

fn errors(validator: &jsonschema::Validator, toml_text: &str) -> Vec<String> {
    validator
        .iter_errors(&as_json(toml_text))
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// The ```toml block of docs/configuration.md's "Every key" section: the reference example.
fn documented_example() -> String {
    let doc = std::fs::read_to_string(repo().join("docs/configuration.md")).unwrap();
    let section = doc.find("## Every key").unwrap();
    let start = section + doc[section..].find("```toml\n").unwrap() + "```toml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    doc[start..end].to_string()
}

#[test]
fn every_shipped_configuration_is_valid() {
    let validator = validator();
    let mut checked = 0;
    for path in [
        "examples/shop/distsys-review.toml",
        "crates/dsr-cli/tests/fixtures/tree/distsys-review.toml",
        "tests/editors/project/distsys-review.toml",
    ] {
        let text = std::fs::read_to_string(repo().join(path)).unwrap();
        let errors = errors(&validator, &text);
        assert!(errors.is_empty(), "{path}: {errors:#?}");
        checked += 1;
    }
    let example = documented_example();
    assert!(example.contains("[[effects]]") && example.contains("[limits]"));
    let errors = errors(&validator, &example);
    assert!(errors.is_empty(), "docs/configuration.md: {errors:#?}");
    assert_eq!(checked, 3);
}

/// What the parser refuses, the schema flags too (so the editor shows it before `check` does).
#[test]
fn what_the_parser_refuses_the_schema_refuses() {
    let validator = validator();
    let codes = ["RES001"];
    for bad in [
        "unknown = true\n",
        "[severity]\nRES001 = \"severe\"\n",
        "[scope]\nroles = [\"everything\"]\n",
        "[sql]\ndialect = \"oracle\"\n",
        "[limits]\nparse-timeout-ms = 5\n",
        "[limits]\nmax-file-size = \"2X\"\n",
        "[review]\nscope = \"services/\"\n",
        "[[effects]]\npath = \"x.New\"\nkind = \"http\"\n",
        "[[effects]]\nlanguage = \"go\"\npath = \"x.New\"\nkind = \"carrier-pigeon\"\n",
    ] {
        assert!(
            dsr_core::Config::parse(Path::new("distsys-review.toml"), bad, &codes).is_err(),
            "the parser accepts {bad:?}"
        );
        assert!(
            !errors(&validator, bad).is_empty(),
            "the schema accepts {bad:?}"
        );
    }
    for good in [
        "[limits]\nmax-file-size = \"500k\"\n",
        "[limits]\nmax-file-size = 1000\n",
        "[sql.paths]\n\"db/**\" = \"clickhouse\"\n",
        "[severity]\nRES001 = \"low\"\n",
    ] {
        assert!(dsr_core::Config::parse(Path::new("distsys-review.toml"), good, &codes).is_ok());
        assert!(
            errors(&validator, good).is_empty(),
            "the schema refuses {good:?}"
        );
    }
}
