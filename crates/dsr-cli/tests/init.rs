//! `distsys-review init` on temporary repositories: what it writes (languages, dialect, components, stores, with
//! nothing it did not find), that the file loads and matches the schema, and that it never overwrites a file
//! without `--force`.

mod common;

use std::path::Path;

use common::run;

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A Go service with a Redis cache and a MySQL database (the driver imported, migrations in a `mysql` folder),
/// a TypeScript gateway, and a Go test that talks to Kafka (test code: no store, no component).
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "orders/go.mod",
        "module example.com/orders\n\ngo 1.22\n",
    );
    write(
        root,
        "orders/stock.go",
        "package orders\n\nimport (\n\t\"context\"\n\t\"database/sql\"\n\n\t_ \"github.com/go-sql-driver/mysql\"\n\t\"github.com/redis/go-redis/v9\"\n)\n\n\
         type Stock struct {\n\tdb  *sql.DB\n\trdb *redis.Client\n}\n\n\
         func (s *Stock) Left(ctx context.Context, sku string) (int, error) {\n\treturn s.rdb.Get(ctx, \"stock:\"+sku).Int()\n}\n\n\
         func (s *Stock) Save(ctx context.Context, sku string, n int) error {\n\t_, err := s.db.ExecContext(ctx, \"UPDATE stock SET n = ? WHERE sku = ?\", n, sku)\n\treturn err\n}\n",
    );
    write(
        root,
        "orders/stock_test.go",
        "package orders\n\nimport (\n\t\"context\"\n\t\"testing\"\n\n\t\"github.com/segmentio/kafka-go\"\n)\n\n\
         func TestPublish(t *testing.T) {\n\tw := &kafka.Writer{Topic: \"stock\"}\n\t_ = w.WriteMessages(context.Background(), kafka.Message{Value: []byte(\"x\")})\n}\n",
    );
    write(
        root,
        "db/migrations/mysql/0001_stock.sql",
        "CREATE TABLE stock (sku VARCHAR(64) PRIMARY KEY, n INT NOT NULL);\n",
    );
    write(root, "gateway/package.json", "{ \"name\": \"gateway\" }\n");
    write(
        root,
        "gateway/src/server.ts",
        "export function health(): string {\n  return \"ok\";\n}\n",
    );
    dir
}

fn config_of(root: &Path) -> String {
    std::fs::read_to_string(root.join("distsys-review.toml")).unwrap()
}

#[test]
fn writes_what_it_found_and_nothing_else() {
    let dir = repository();
    let out = run(dir.path(), &["init"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("wrote "), "{}", out.stderr);
    let text = config_of(dir.path());
    // Languages, test code included in the counts.
    assert!(text.contains("Go (2 files)"), "{text}");
    assert!(text.contains("SQL (1 file)"), "{text}");
    // The dialect, with its evidence.
    assert!(text.contains("[sql]\ndialect = \"mysql\""), "{text}");
    assert!(
        text.contains("the path part `mysql` in db/migrations/mysql/0001_stock.sql"),
        "{text}"
    );
    assert!(
        text.contains("the driver `github.com/go-sql-driver/mysql` in orders/stock.go"),
        "{text}"
    );
    // Components, with their manifests and languages.
    assert!(
        text.contains("\"gateway/\",  # package.json; TypeScript"),
        "{text}"
    );
    assert!(text.contains("\"orders/\",  # go.mod; Go"), "{text}");
    // Stores the production code calls; the test's Kafka writer is not one of them.
    assert!(
        text.contains("cache `github.com/redis/go-redis`: orders/stock.go"),
        "{text}"
    );
    assert!(
        text.contains("database `database/sql`: orders/stock.go"),
        "{text}"
    );
    assert!(!text.contains("kafka"), "{text}");
    // TODOs, as comments: the lists themselves are empty until the team fills them in.
    assert!(
        text.contains("# TODO: what must always hold for what goes through cache"),
        "{text}"
    );
    assert!(
        text.contains("# TODO: the latency and availability objectives of orders/"),
        "{text}"
    );

    // The file loads, and `check` reads it.
    let config = dsr_core::Config::parse(Path::new("distsys-review.toml"), &text, &[]).unwrap();
    assert_eq!(config.review.scope, ["gateway/", "orders/"]);
    assert!(config.review.invariants.is_empty());
    assert_eq!(
        config.sql.dialect,
        Some(dsr_core::config::SqlDatabase::MySql)
    );
    // And it is valid against the schema editors use.
    let schema = serde_json::to_value(dsr_core::config::json_schema()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let value: toml::Value = toml::from_str(&text).unwrap();
    assert!(validator.is_valid(&serde_json::to_value(value).unwrap()));
    let check = run(
        dir.path(),
        &["check", "--fail-on", "none", "--format", "concise"],
    );
    assert_eq!(check.code, 0, "{}", check.stderr);
}

#[test]
fn never_overwrites_without_force() {
    let dir = repository();
    write(dir.path(), "distsys-review.toml", "# ours\n");
    let out = run(dir.path(), &["init"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("already exists") && out.stderr.contains("--force"),
        "{}",
        out.stderr
    );
    assert_eq!(config_of(dir.path()), "# ours\n");
    // --stdout prints the new file and leaves the old one alone.
    let printed = run(dir.path(), &["init", "--stdout"]);
    assert_eq!(printed.code, 0, "{}", printed.stderr);
    assert!(printed.stdout.contains("[review]"));
    assert_eq!(config_of(dir.path()), "# ours\n");
    let forced = run(dir.path(), &["init", "--force"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert_eq!(config_of(dir.path()), printed.stdout);
}

#[test]
fn an_empty_repository_gets_only_todos() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "README.md", "nothing to see\n");
    let out = run(dir.path(), &["init", "--stdout"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = out.stdout;
    assert!(
        text.contains("No Go, Rust, TypeScript/JavaScript or SQL files found."),
        "{text}"
    );
    assert!(!text.contains("[sql]\n"), "{text}");
    assert!(!text.contains("scope = ["), "{text}");
    assert!(dsr_core::Config::parse(Path::new("distsys-review.toml"), &text, &[]).is_ok());
}

#[test]
fn sql_without_evidence_is_left_to_the_team() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "migrations/0001_init.sql",
        "CREATE TABLE t (id BIGINT PRIMARY KEY);\n",
    );
    let out = run(dir.path(), &["init", "--stdout"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("1 SQL file found, none naming its database"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("# dialect = "), "{}", out.stdout);
    assert!(!out.stdout.contains("\ndialect = "), "{}", out.stdout);
}
