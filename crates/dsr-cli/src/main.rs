//! The `distsys-review` command line (placeholder until the CLI lands).
fn main() {
    eprintln!("distsys-review: the command line is being built");
    std::process::exit(2);
}
