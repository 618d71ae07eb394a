//! The edit-sequence property as a fuzz target: bytes are decoded with `arbitrary` into a language, a starting
//! text, an encoding and a sequence of `didChange` batches, which `dsr_syntax::conformance::Harness` applies
//! to a `Document`, checking the text against a string model and the tree against a fresh parse after every
//! batch, and after a pause (some batches are followed by one) against a fresh parse exactly. Any disagreement panics, which both libFuzzer and the stable runner report as a crash.

use arbitrary::{Arbitrary, Unstructured};
use dsr_syntax::conformance::{Anchor, Edit, Harness, Stats};
use dsr_syntax::{Language, PositionEncoding};

const LANGUAGES: [Language; 5] = [
    Language::Rust,
    Language::Go,
    Language::TypeScript,
    Language::Tsx,
    Language::Sql,
];

/// Valid starting texts, also used by full-text changes to come back to code that parses.
const SEEDS: [&str; 6] = [
    "fn main() {\n    let x = \"😀\";\r\n    call(x).await;\n}\n",
    "package main\n\nfunc main() {\n\tx := \"é\"\n\tcall(x)\n}\n",
    "async function f(a: string) {\n  await fetch(a);\n}\n",
    "const C = () => <div>{`t ${x}`}</div>;\n",
    "SELECT 1;\r\nDROP TABLE users;\n",
    "",
];

/// Tokens that stress the encodings and the grammars.
const TOKENS: [&str; 36] = [
    "a", "x", " ", "\n", "\r\n", "\r", "\t", "é", "😀", "𝕏", "{", "}", "(", ")", "[", "]", "\"",
    "'", "`", ";", "fn ", "func ", "let ", "const ", "if ", "return ", "//", "/*", "*/", ".", ",",
    "=", "${", "<div>", "</div>", "\\",
];

const MAX_BATCHES: usize = 256;
const MAX_BATCH: usize = 8;
const MAX_TOKENS: usize = 24;

#[derive(Arbitrary, Debug)]
enum AnchorIn {
    Offset(u16),
    Eof,
    LineStart(u8),
}

#[derive(Arbitrary, Debug)]
enum TextIn {
    Tokens(Vec<u8>),
    /// Any Unicode text the fuzzer comes up with.
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum EditIn {
    Range(AnchorIn, u8, TextIn),
    Lines(AnchorIn, u8, TextIn),
    Seed(u8),
    Full(TextIn),
    Undo,
}

fn anchor(anchor: &AnchorIn) -> Anchor {
    match anchor {
        AnchorIn::Offset(n) => Anchor::Offset(usize::from(*n)),
        AnchorIn::Eof => Anchor::Eof,
        AnchorIn::LineStart(n) => Anchor::LineStart(usize::from(*n)),
    }
}

fn text(text: &TextIn) -> String {
    match text {
        TextIn::Tokens(tokens) => tokens
            .iter()
            .take(MAX_TOKENS)
            .map(|&t| TOKENS[usize::from(t) % TOKENS.len()])
            .collect(),
        TextIn::Raw(raw) => raw.chars().take(MAX_TOKENS).collect(),
    }
}

fn edit(edit: &EditIn) -> Edit {
    match edit {
        EditIn::Range(at, len, t) => Edit::Range {
            at: anchor(at),
            len: usize::from(*len % 16),
            text: text(t),
        },
        EditIn::Lines(at, lines, t) => Edit::Lines {
            at: anchor(at),
            lines: usize::from(*lines % 4) + 1,
            text: text(t),
        },
        EditIn::Seed(i) => Edit::Full(SEEDS[usize::from(*i) % SEEDS.len()].to_string()),
        EditIn::Full(t) => Edit::Full(text(t)),
        EditIn::Undo => Edit::Undo,
    }
}

/// Runs one input; panics with a description of the first disagreement. The first three bytes choose the
/// language, the starting text and the encoding; the rest is read batch after batch until it runs out (so random
/// bytes give long sequences too, not only what the fuzzer has learnt to grow).
pub fn run(data: &[u8]) -> Stats {
    let mut u = Unstructured::new(data);
    let (Ok(language), Ok(seed), Ok(encoding)) = (
        u8::arbitrary(&mut u),
        u8::arbitrary(&mut u),
        u8::arbitrary(&mut u),
    ) else {
        return Stats::default();
    };
    let language = LANGUAGES[usize::from(language) % LANGUAGES.len()];
    let seed = SEEDS[usize::from(seed) % SEEDS.len()];
    let encoding = match encoding % 8 {
        0 => PositionEncoding::Utf8,
        1 => PositionEncoding::Utf32,
        _ => PositionEncoding::Utf16,
    };
    let mut harness = Harness::new(language, seed, encoding);
    for _ in 0..MAX_BATCHES {
        if u.is_empty() {
            break;
        }
        let Ok(batch) = Vec::<EditIn>::arbitrary(&mut u) else {
            break;
        };
        let batch: Vec<Edit> = batch.iter().take(MAX_BATCH).map(edit).collect();
        if batch.is_empty() {
            continue;
        }
        // Now and then typing pauses, which settles a provisional tree.
        let pause = u8::arbitrary(&mut u).is_ok_and(|byte| byte % 8 == 0);
        let outcome = harness
            .step(&batch)
            .and_then(|()| if pause { harness.pause() } else { Ok(()) });
        if let Err(problem) = outcome {
            panic!("edit sequence disagreement ({language:?}, {encoding:?}): {problem}");
        }
    }
    harness.stats
}
