//! Key-value store commands (Redis and its clients) decoded from calls, through the knowledge base's argument
//! roles: `rdb.SetNX(ctx, k, v, 0)`, `conn.Do("SET", k, v, "NX")`, `redis.set(k, v, "NX")`,
//! `client.sendCommand(["SET", k, v, "NX"])`, `redis::cmd("SET").arg(k).arg(v).arg("NX")`. Rules about locks,
//! read-modify-write races and batching read the same [`StoreCommand`] whatever the library.

use dsr_syntax::node;
use tree_sitter::Node;

use crate::facts::FileFacts;
use crate::kb::KbMatch;
use dsr_core::kb::{Api, KnowledgeBase};

/// One command a call sends.
#[derive(Clone, Debug)]
pub struct StoreCommand<'t> {
    /// Index of the call in [`FileFacts::calls`] (for a builder chain, the call that names the command).
    pub call: usize,
    /// The command, upper case: `SET`, `SETNX`, `DEL`, `EXPIRE`.
    pub name: String,
    pub key: Option<Node<'t>>,
    pub value: Option<Node<'t>>,
    pub options: Options<'t>,
}

/// How the rest of the command is written.
#[derive(Clone, Debug)]
pub enum Options<'t> {
    /// Raw tokens after key and value (`"NX"`, `"PX"`, `30000`), written as `style` says.
    Tokens {
        tokens: Vec<Token<'t>>,
        style: TokenStyle,
    },
    /// Typed arguments: an expiry (`time.Duration`, fred's `Option<Expiration>`) and an options value (go-redis
    /// `SetArgs{…}`, node-redis `{ NX: true }`, redis-rs `SetOptions`, fred's `Option<SetOptions>`).
    Typed {
        expiration: Option<Node<'t>>,
        options: Option<Node<'t>>,
    },
}

/// How raw tokens are written, so that a fix can add one in the same style.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TokenStyle {
    /// Separate call arguments: `Do(ctx, "SET", k, v, "NX")`, `set(k, v, "NX")`.
    Arguments,
    /// Elements of one array argument, strings only: `sendCommand(["SET", k, v, "NX"])`.
    Array,
    /// One builder call per token: `.arg("NX")`; `node` is that call.
    Builder,
}

#[derive(Clone, Debug)]
pub struct Token<'t> {
    /// The argument (for [`TokenStyle::Builder`], the whole `.arg(…)` call).
    pub node: Node<'t>,
    /// The token's text, upper case, when it is a string literal.
    pub text: Option<String>,
    /// The token is a number literal (an `EX`/`PX` amount).
    pub is_number: bool,
}

impl<'t> StoreCommand<'t> {
    /// Decodes `facts.calls[index]` when the knowledge base knows it as a store command. Builder links
    /// (`.arg(…)`) are not commands of their own: ask about the call that names the command.
    pub fn decode(
        facts: &FileFacts<'t>,
        kb: &KnowledgeBase,
        source: &str,
        index: usize,
    ) -> Option<StoreCommand<'t>> {
        let call = facts.calls.get(index)?;
        kb.candidates(facts, call)
            .find_map(|api| decode_with(api, facts, source, index))
    }

    /// The key as written, whitespace removed, or its contents when it is a string literal.
    pub fn key_text(&self, source: &str, language: dsr_syntax::Language) -> Option<String> {
        let key = self.key?;
        Some(
            node::string_literal_value(key, source, language)
                .unwrap_or_else(|| crate::facts::compact(node::text(key, source))),
        )
    }
}

/// The store commands of one file, decoded once (on first use, through
/// [`RuleContext::store_commands`](crate::RuleContext::store_commands)) and read by the lock and store models
/// and the LCK rules.
#[derive(Debug, Default)]
pub struct StoreCommands<'t> {
    /// In call order.
    commands: Vec<StoreCommand<'t>>,
    /// Index into `commands` by call index.
    by_call: Vec<Option<usize>>,
}

impl<'t> StoreCommands<'t> {
    pub fn decode(facts: &FileFacts<'t>, kb: &KnowledgeBase, source: &str) -> Self {
        let mut by_call = vec![None; facts.calls.len()];
        let mut commands = Vec::new();
        for (index, slot) in by_call.iter_mut().enumerate() {
            if let Some(command) = StoreCommand::decode(facts, kb, source, index) {
                *slot = Some(commands.len());
                commands.push(command);
            }
        }
        StoreCommands { commands, by_call }
    }

    /// Every command of the file, in call order.
    pub fn all(&self) -> &[StoreCommand<'t>] {
        &self.commands
    }

    /// The command `facts.calls[call]` sends, if it sends one.
    pub fn at(&self, call: usize) -> Option<&StoreCommand<'t>> {
        self.by_call
            .get(call)
            .copied()
            .flatten()
            .and_then(|i| self.commands.get(i))
    }
}

/// Decodes a call as `api` describes it; `None` when its arguments do not fit (the call is another library's).
fn decode_with<'t>(
    api: &Api,
    facts: &FileFacts<'t>,
    source: &str,
    index: usize,
) -> Option<StoreCommand<'t>> {
    let call = facts.calls.get(index)?;
    let language = facts.language;
    let arg = |role: &str| api.param(role).and_then(|i| call.args.get(i).copied());
    if let Some(name) = &api.command {
        // More arguments than the entry has roles: another library's method of the same name (redis-rs
        // `set(k, v)` vs fred `set(k, v, expire, options, get)`).
        let has_rest = api.params.iter().any(|p| p.ends_with("..."));
        if !has_rest && call.args.len() > api.params.len() {
            return None;
        }
        let options = if let Some(start) = api.param("tokens...") {
            let args = call.args.get(start..).unwrap_or_default();
            Options::Tokens {
                tokens: args.iter().map(|a| token(*a, *a, source, facts)).collect(),
                style: TokenStyle::Arguments,
            }
        } else {
            Options::Typed {
                expiration: arg("expiration"),
                options: arg("options"),
            }
        };
        return Some(StoreCommand {
            call: index,
            name: name.to_ascii_uppercase(),
            key: arg("key"),
            value: arg("value"),
            options,
        });
    }
    if let Some(start) = api.param("command...") {
        let args = call.args.get(start..)?;
        return raw(index, args, TokenStyle::Arguments, source, facts);
    }
    if let Some(at) = api.param("command") {
        let first = *call.args.get(at)?;
        if first.kind() == "array" || first.kind() == "array_expression" {
            let elements: Vec<_> = node::named_children(first)
                .filter(|e| !e.kind().contains("comment"))
                .collect();
            return raw(index, &elements, TokenStyle::Array, source, facts);
        }
        let builder = api.builder.as_deref()?;
        let name = node::string_literal_value(first, source, language)?;
        let mut parts = Vec::new();
        for link in facts.chained_calls(index) {
            let link_call = &facts.calls[link];
            if link_call.method.as_deref() != Some(builder) {
                break;
            }
            let Some(argument) = link_call.args.first().copied() else {
                break;
            };
            parts.push(token(link_call.node, argument, source, facts));
        }
        let mut parts = parts.into_iter();
        let key = parts.next().map(|t| t.node);
        let value = parts.next().map(|t| t.node);
        let tokens: Vec<_> = parts.collect();
        return Some(StoreCommand {
            call: index,
            name: name.to_ascii_uppercase(),
            key: key.and_then(|k| builder_argument(k)),
            value: value.and_then(|v| builder_argument(v)),
            options: Options::Tokens {
                tokens,
                style: TokenStyle::Builder,
            },
        });
    }
    None
}

/// A raw command: its name, then (for the commands that have them) key and value, then tokens.
fn raw<'t>(
    index: usize,
    args: &[Node<'t>],
    style: TokenStyle,
    source: &str,
    facts: &FileFacts<'t>,
) -> Option<StoreCommand<'t>> {
    let name = node::string_literal_value(*args.first()?, source, facts.language)?;
    let name = name.to_ascii_uppercase();
    let rest = &args[1..];
    let takes_value = matches!(
        name.as_str(),
        "SET" | "SETNX" | "SETEX" | "PSETEX" | "GETSET"
    );
    let key = rest.first().copied();
    let value = if takes_value {
        rest.get(1).copied()
    } else {
        None
    };
    let options_from = if takes_value { 2 } else { 1 }.min(rest.len());
    Some(StoreCommand {
        call: index,
        name,
        key,
        value,
        options: Options::Tokens {
            tokens: rest[options_from..]
                .iter()
                .map(|a| token(*a, *a, source, facts))
                .collect(),
            style,
        },
    })
}

fn token<'t>(node: Node<'t>, argument: Node<'t>, source: &str, facts: &FileFacts<'t>) -> Token<'t> {
    Token {
        node,
        text: node::string_literal_value(argument, source, facts.language)
            .map(|t| t.to_ascii_uppercase()),
        is_number: matches!(
            argument.kind(),
            "int_literal" | "integer_literal" | "number" | "float_literal"
        ),
    }
}

/// The argument of a builder link `.arg(x)`.
fn builder_argument(link: Node<'_>) -> Option<Node<'_>> {
    link.child_by_field_name("arguments")
        .and_then(|a| node::named_children(a).next())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsr_syntax::{Document, Language};

    fn decode_all(language: Language, source: &str) -> Vec<String> {
        let document = Document::new(language, source, 0).expect("grammar loads");
        let facts = FileFacts::compute(language, document.tree(), source);
        (0..facts.calls.len())
            .filter_map(|i| StoreCommand::decode(&facts, KnowledgeBase::builtin(), source, i))
            .map(|c| {
                let options = match &c.options {
                    Options::Tokens { tokens, style, .. } => format!(
                        "{style:?}[{}]",
                        tokens
                            .iter()
                            .map(|t| t.text.clone().unwrap_or_else(|| "?".into()))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    Options::Typed {
                        expiration,
                        options,
                    } => format!(
                        "typed(exp={}, opts={})",
                        expiration.map_or("-", |n| node::text(n, source)),
                        options.map_or("-", |n| node::text(n, source))
                    ),
                };
                format!(
                    "{} {} {}",
                    c.name,
                    c.key_text(source, language).unwrap_or_default(),
                    options
                )
            })
            .collect()
    }

    #[test]
    fn go_redis_and_redigo() {
        let source = r#"package p
import (
    "github.com/redis/go-redis/v9"
    redigo "github.com/gomodule/redigo/redis"
)
func f() {
    rdb.SetNX(ctx, "lock:a", token, 0)
    rdb.Do(ctx, "set", key, token, "NX", "PX", 100)
    conn.Do("DEL", key)
    rdb.SetArgs(ctx, key, v, redis.SetArgs{Mode: "NX"})
}
"#;
        assert_eq!(
            decode_all(Language::Go, source),
            [
                "SETNX lock:a typed(exp=0, opts=-)",
                "SET key Arguments[NX PX ?]",
                "DEL key Arguments[]",
                "SET key typed(exp=-, opts=redis.SetArgs{Mode: \"NX\"})"
            ]
        );
    }

    #[test]
    fn rust_builders_and_methods() {
        let source = r#"
use redis::AsyncCommands;
async fn f() {
    let _: Option<String> = redis::cmd("SET").arg(&key).arg(token).arg("NX").query_async(&mut con).await?;
    con.set_nx("k", 1).await?;
}
"#;
        assert_eq!(
            decode_all(Language::Rust, source),
            ["SET &key Builder[NX]", "SETNX k typed(exp=-, opts=-)"]
        );
    }

    #[test]
    fn typescript_clients() {
        let ioredis = r#"
import Redis from "ioredis";
redis.set(key, token, "NX", "EX", 30);
redis.call("SET", key, token, "NX");
"#;
        assert_eq!(
            decode_all(Language::TypeScript, ioredis),
            ["SET key Arguments[NX EX ?]", "SET key Arguments[NX]"]
        );
        let node_redis = r#"
const { createClient } = require("redis");
client.sendCommand(["SET", key, token, "NX"]);
client.set(key, token, { NX: true });
"#;
        assert_eq!(
            decode_all(Language::Tsx, node_redis),
            [
                "SET key Array[NX]",
                "SET key typed(exp=-, opts={ NX: true })"
            ]
        );
    }
}
