//! Prints the syntax tree of a file: `cargo run -p dsr-syntax --example sexp -- FILE`.
fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: sexp FILE");
        std::process::exit(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) => {
            eprintln!("{path}: {err}");
            std::process::exit(2);
        }
    };
    let Some(language) = dsr_syntax::Language::from_path(std::path::Path::new(&path)) else {
        eprintln!("{path}: not a language distsys-review reads");
        std::process::exit(2);
    };
    match dsr_syntax::Document::new(language, &text, 0) {
        Ok(document) => match document.tree() {
            Some(tree) => print_node(tree.root_node(), 0, None),
            None => println!("(no tree for {language})"),
        },
        Err(err) => eprintln!("{path}: {err}"),
    }
}

fn print_node(node: tree_sitter::Node<'_>, depth: usize, field: Option<&str>) {
    let field = field.map(|f| format!("{f}: ")).unwrap_or_default();
    println!(
        "{}{field}{} [{}..{}]",
        "  ".repeat(depth),
        node.kind(),
        node.start_byte(),
        node.end_byte()
    );
    let mut cursor = node.walk();
    for (i, child) in node.children(&mut cursor).enumerate() {
        if child.is_named() {
            print_node(child, depth + 1, node.field_name_for_child(i as u32));
        }
    }
}
