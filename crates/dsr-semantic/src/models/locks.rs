//! Where a lock is taken and released. Distributed locks: a Redis key set if absent (`SET key token NX PX n`,
//! `SETNX`) in any client the [store-command decoder](crate::store_commands) reads, an etcd create-if-absent
//! transaction, and the lock libraries of the knowledge base's `[[lock]]` entries (redsync, etcd
//! `concurrency.Mutex`, rslock, redlock). In-process locks: `sync.Mutex`/`RWMutex`, Rust's std, parking_lot,
//! tokio and futures mutexes, async-mutex.
//!
//! For each acquisition the model knows the key expression, the token (the value the holder stored), the
//! expiry, what the key is for (a lock, a deduplication record, or unknown — from the names around it), the
//! local its result is bound to, and the calls that release it.

use dsr_syntax::{node, Language, TextRange};
use rustc_hash::FxHashMap;
use tree_sitter::Node;

use crate::facts::{compact, Call, FileFacts, ANONYMOUS};
use crate::store_commands::{Options, StoreCommand, StoreCommands, TokenStyle};
use dsr_core::kb::{ApiRole, KnowledgeBase, LockLibrary, LockScope, PathGroupKind};

use crate::kb::KbMatch;

/// The locks of one file.
#[derive(Debug, Default)]
pub struct Locks<'t, 'k> {
    pub acquisitions: Vec<Acquisition<'t, 'k>>,
    /// `DEL`s of a key field of a method's own type (`l.key`, `self.key`) that no acquisition of the file
    /// takes: the lock is taken by another method of the type, perhaps in another file (the workspace index
    /// says which, [`crate::index::IndexView::lock_taken_by_type`]).
    pub handed_over: Vec<HandedOver>,
}

/// A `DEL` of a key field of the method's type with no acquisition of that key in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandedOver {
    /// The `DEL`/`UNLINK` call (index into [`FileFacts::calls`]).
    pub call: usize,
    /// The key as written (whitespace removed), as [`key_text`] gives it.
    pub key: String,
    /// The type whose method deletes it, as the function's name gives it (`Lock` of `Lock.Release`).
    pub owner: String,
    pub kind: ReleaseKind,
}

/// How a lock is taken.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Mechanism<'k> {
    /// A Redis key set if absent (`SETNX`, `SET … NX`), in any client.
    Redis,
    /// An etcd transaction that puts a key only if it does not exist yet.
    EtcdTxn,
    /// A lock library or lock type of the knowledge base.
    Library(&'k LockLibrary),
}

/// When the lock frees itself if its holder disappears.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Expiry<'t> {
    /// Never: the code sets no TTL.
    None,
    /// The expression setting it (`30*time.Second`, `"PX", 30000`, `clientv3.WithLease(id)`).
    At(Node<'t>),
    /// The library's default expiry applies (redsync's 8 s, an etcd session's 60 s).
    Default,
    /// Tokens the code computes elsewhere may set one.
    Unknown,
}

/// What a key taken if absent is for, from the names around it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Purpose {
    Lock,
    /// A deduplication / idempotency record.
    Dedup,
    Unknown,
}

/// One place a lock is taken.
#[derive(Clone, Debug)]
pub struct Acquisition<'t, 'k> {
    /// The call that takes it (index into [`FileFacts::calls`]); for an etcd transaction, its `OpPut`.
    pub call: usize,
    pub mechanism: Mechanism<'k>,
    pub scope: LockScope,
    pub key: Option<Node<'t>>,
    /// The value the holder stores (its token), when the code shows it.
    pub token: Option<Node<'t>>,
    pub expiry: Expiry<'t>,
    pub purpose: Purpose,
    /// The lock object the acquire method is called on (`mutex`, `s.mu`, `self.state`), whitespace removed.
    pub lock: Option<String>,
    /// The local the acquisition's result is bound to (`guard`, `lock`, `release`); `_` when discarded.
    pub handle: Option<String>,
    /// The statement that binds [`handle`](Self::handle), else the statement holding the call.
    pub statement: Option<Node<'t>>,
    /// For scoped forms (`runExclusive(cb)`, `using(keys, ttl, cb)`): the callback run while the lock is held.
    pub body: Option<Node<'t>>,
    /// The lock's type is declared in the file (or its constructor is), rather than inferred from imports.
    pub declared: bool,
    pub releases: Vec<Release>,
    /// A separate `EXPIRE`/`PEXPIRE` of the same key after the claim (index into [`FileFacts::calls`]).
    pub expire: Option<usize>,
}

/// A call that gives a lock back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    pub call: usize,
    pub kind: ReleaseKind,
    /// Inside a `defer` (Go) or a `finally` (TS): runs when the function leaves.
    pub deferred: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReleaseKind {
    /// A plain `DEL`/`UNLINK` of the key, with no check that it still holds this holder's token.
    Delete,
    /// A `DEL` after a `GET` of the same key in a separate command (index of the `GET` call): a check, but not
    /// atomic with the delete.
    DeleteAfterGet(usize),
    /// A `DEL` inside a `WATCH`ed transaction on the key (`Watch(fn, key)`, `redis::transaction`).
    DeleteInTransaction,
    /// The library's own release (`Unlock`, `release()`, `drop(guard)`).
    Library,
}

impl<'t, 'k> Locks<'t, 'k> {
    pub fn compute(
        facts: &FileFacts<'t>,
        source: &str,
        kb: &'k KnowledgeBase,
        commands: &StoreCommands<'t>,
    ) -> Self {
        let keyed = CommandKeys::new(facts, source, commands.all());
        let commands = commands.all();
        let scanner = Scanner::new(facts, source);
        let mut acquisitions = Vec::new();
        for command in commands {
            if let Some(expiry) = set_if_absent(facts, source, command) {
                let mut acquisition = Acquisition {
                    call: command.call,
                    mechanism: Mechanism::Redis,
                    scope: LockScope::Distributed,
                    key: command.key,
                    token: command.value,
                    expiry,
                    purpose: Purpose::Unknown,
                    lock: None,
                    handle: None,
                    statement: None,
                    body: None,
                    declared: true,
                    releases: Vec::new(),
                    expire: None,
                };
                redis_releases(facts, source, &keyed, &mut acquisition);
                acquisition.purpose = classify(
                    facts,
                    source,
                    command.call,
                    command.key,
                    command.value,
                    !acquisition.releases.is_empty(),
                );
                bind(facts, source, &mut acquisition);
                acquisitions.push(acquisition);
            }
        }
        if facts.language == Language::Go {
            for mut acquisition in etcd_transactions(facts, kb) {
                redis_releases(facts, source, &keyed, &mut acquisition);
                acquisition.purpose = classify(
                    facts,
                    source,
                    acquisition.call,
                    acquisition.key,
                    acquisition.token,
                    !acquisition.releases.is_empty(),
                );
                acquisitions.push(acquisition);
            }
        }
        for (index, call) in facts.calls.iter().enumerate() {
            if let Some(acquisition) = library_acquisition(facts, source, kb, &scanner, index, call)
            {
                acquisitions.push(acquisition);
            }
        }
        // In document order (calls are recorded in it); ties of position broken by call so `at_call` can
        // binary-search.
        acquisitions.sort_by_key(|a| (facts.calls[a.call].node.start_byte(), a.call));
        let handed_over = handed_over(facts, source, &keyed, &acquisitions);
        Locks {
            acquisitions,
            handed_over,
        }
    }

    /// The acquisition made by a call.
    pub fn at_call(&self, call: usize) -> Option<&Acquisition<'t, 'k>> {
        // Acquisitions are sorted by their call's position and then index, and calls are recorded in document
        // order, so call indexes ascend.
        let first = self.acquisitions.partition_point(|a| a.call < call);
        self.acquisitions[first..].iter().find(|a| a.call == call)
    }
}

impl Acquisition<'_, '_> {
    /// The library, for library locks.
    pub fn library(&self) -> Option<&LockLibrary> {
        match self.mechanism {
            Mechanism::Library(library) => Some(library),
            _ => None,
        }
    }

    /// Whether the lock serialises a fill of its owner's own state at `at` (a node held under the lock), Go: the
    /// node runs only when a field of the owner is still `nil` (`if t.rows == nil { t.fetch(ctx) }`, a lazy
    /// initialisation: after the first caller no one waits), or after a re-check of the owner's state that
    /// returns early (`if cur := c.current.Load(); cur != nil { return cur }`: a caller that waited for the
    /// lock takes the result the holder fetched — a single flight). Such a lock exists to make callers wait
    /// for the one fetch they all need; it is not a shared lock that unrelated work queues behind.
    pub fn serialises_owner_fill<'f>(
        &self,
        facts: &FileFacts<'f>,
        source: &str,
        region_start: usize,
        at: Node<'f>,
    ) -> bool {
        let Some((owner, _)) = self.lock.as_deref().and_then(|l| l.rsplit_once('.')) else {
            return false;
        };
        let lock = self.lock.as_deref().unwrap_or_default();
        let reads_owner_field = |condition: Node<'_>| {
            let text = compact(node::text(condition, source));
            let prefix = format!("{owner}.");
            text.match_indices(&prefix).any(|(i, _)| {
                let before_ok = i == 0
                    || !text[..i]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
                before_ok && !text[i..].starts_with(lock)
            })
        };
        let is_nil_check = |condition: Node<'_>| {
            condition.kind() == "binary_expression"
                && node::text(condition, source).contains("== nil")
        };
        // Inside `if <owner>.<field> == nil { … }` taken after the lock.
        let lazy_init = facts
            .ancestors(at)
            .take_while(|a| a.start_byte() >= region_start)
            .filter(|a| a.kind() == "if_statement")
            .any(|branch| {
                branch
                    .child_by_field_name("condition")
                    .is_some_and(|c| is_nil_check(c) && reads_owner_field(c))
                    && branch
                        .child_by_field_name("consequence")
                        .is_some_and(|body| TextRange::of(body).contains(at.start_byte()))
            });
        if lazy_init {
            return true;
        }
        // A re-check of the owner's state between the lock and `at` that returns.
        let Some(statement) = facts.enclosing_statement(at) else {
            return false;
        };
        let mut sibling = statement.prev_named_sibling();
        while let Some(previous) = sibling {
            if previous.start_byte() < region_start {
                break;
            }
            if previous.kind() == "if_statement"
                && ["initializer", "condition"].iter().any(|field| {
                    previous
                        .child_by_field_name(field)
                        .is_some_and(reads_owner_field)
                })
                && previous
                    .child_by_field_name("consequence")
                    .is_some_and(|body| {
                        node::descendants(body).any(|n| n.kind() == "return_statement")
                    })
            {
                return true;
            }
            sibling = previous.prev_named_sibling();
        }
        false
    }
}

// ---------------------------------------------------------------------------------------------------------
// Redis: which `SET`s are "if absent", and with which expiry.

/// The expiry of a Redis command that sets a key only if it is absent; `None` when the command is not one.
fn set_if_absent<'t>(
    facts: &FileFacts<'t>,
    source: &str,
    command: &StoreCommand<'t>,
) -> Option<Expiry<'t>> {
    match (command.name.as_str(), &command.options) {
        ("SETNX", Options::Typed { expiration, .. }) => Some(match expiration {
            Some(e) if node::text(*e, source) == "0" || is_keep_ttl(facts, source, *e) => {
                Expiry::None
            }
            Some(e) => Expiry::At(*e),
            None => Expiry::None,
        }),
        ("SETNX", _) => Some(Expiry::None),
        ("SET", Options::Tokens { tokens, style }) => {
            tokens.iter().find(|t| t.text.as_deref() == Some("NX"))?;
            if let Some(t) = tokens
                .iter()
                .find(|t| matches!(t.text.as_deref(), Some("EX" | "PX" | "EXAT" | "PXAT")))
            {
                // A builder token is the whole `.arg("PX")` link; its argument reads better.
                let shown = match style {
                    TokenStyle::Builder => facts
                        .call_index(t.node)
                        .and_then(|i| facts.calls[i].args.first().copied())
                        .unwrap_or(t.node),
                    _ => t.node,
                };
                return Some(Expiry::At(shown));
            }
            let unreadable = tokens.iter().any(|t| t.text.is_none() && !t.is_number);
            Some(if unreadable {
                Expiry::Unknown
            } else {
                Expiry::None
            })
        }
        (
            "SET",
            Options::Typed {
                expiration,
                options,
            },
        ) => {
            let call = &facts.calls[command.call];
            let options = options.map(|o| local_value(facts, source, call, o))?;
            typed_set_if_absent(facts, source, *expiration, options)
        }
        _ => None,
    }
}

/// Typed `SET` options: go-redis `SetArgs{Mode: "NX", TTL: …}`, node-redis `{ NX: true, PX: n }` / `{ condition:
/// "NX", expiration: … }`, redis-rs `SetOptions::default().conditional_set(ExistenceCheck::NX)
/// .with_expiration(…)`, fred `set(k, v, Some(Expiration::PX(n)), Some(SetOptions::NX), false)`.
fn typed_set_if_absent<'t>(
    facts: &FileFacts<'t>,
    source: &str,
    expiration: Option<Node<'t>>,
    options: Node<'t>,
) -> Option<Expiry<'t>> {
    let language = facts.language;
    let options = if options.kind() == "unary_expression" {
        options.named_child(0)?
    } else {
        options
    };
    if let Some(literal) = facts.literal_of(options) {
        let value = |name: &str| {
            literal
                .field(name)
                .and_then(|f| f.value_expression())
                .map(|inner| {
                    (
                        inner,
                        node::string_literal_value(inner, source, language)
                            .unwrap_or_else(|| compact(node::text(inner, source))),
                    )
                })
        };
        let nx = value("Mode").is_some_and(|(_, m)| m.eq_ignore_ascii_case("nx"))
            || value("NX").is_some_and(|(_, v)| v == "true")
            || value("condition").is_some_and(|(_, c)| c.eq_ignore_ascii_case("nx"));
        if !nx {
            return None;
        }
        for name in ["TTL", "ExpireAt", "EX", "PX", "EXAT", "PXAT", "expiration"] {
            if let Some((n, text)) = value(name) {
                if text != "0" && !text.to_ascii_uppercase().contains("KEEPTTL") {
                    return Some(Expiry::At(n));
                }
            }
        }
        return Some(if literal.has_spread {
            Expiry::Unknown
        } else {
            Expiry::None
        });
    }
    if language != Language::Rust {
        return None;
    }
    // The calls inside the options, by a binary search: a scan of every call of the file per candidate `SET`
    // made the model quadratic.
    let inner: Vec<&Call<'t>> = facts.calls_within(TextRange::of(options)).collect();
    let text = compact(node::text(options, source));
    if let Some(condition) = inner
        .iter()
        .find(|c| c.method.as_deref() == Some("conditional_set"))
    {
        let nx = condition
            .args
            .iter()
            .any(|a| compact(node::text(*a, source)).ends_with("NX"));
        if !nx {
            return None;
        }
        return Some(
            match inner
                .iter()
                .find(|c| c.method.as_deref() == Some("with_expiration"))
            {
                Some(e) if !compact(node::text(e.node, source)).contains("KEEPTTL") => {
                    Expiry::At(e.node)
                }
                _ => Expiry::None,
            },
        );
    }
    if !(text.contains("::NX") || text == "Some(NX)") {
        return None;
    }
    let expiration = expiration?;
    let expiry = compact(node::text(expiration, source));
    Some(if expiry == "None" || expiry.contains("KEEPTTL") {
        Expiry::None
    } else {
        Expiry::At(expiration)
    })
}

/// go-redis `redis.KeepTTL`.
fn is_keep_ttl(facts: &FileFacts<'_>, source: &str, n: Node<'_>) -> bool {
    n.kind() == "selector_expression"
        && facts
            .resolve(&compact(node::text(n, source)))
            .is_some_and(|p| p.ends_with(".KeepTTL"))
}

/// An argument given as a local variable: the value it was declared with.
fn local_value<'t>(facts: &FileFacts<'t>, source: &str, call: &Call<'t>, n: Node<'t>) -> Node<'t> {
    if n.kind() != "identifier" {
        return n;
    }
    facts
        .declared_value(call.function, node::text(n, source), call.node.start_byte())
        .unwrap_or(n)
}

/// The file's store commands with their keys as the reader knows them ([`key_text`]), looked up by key: the
/// commands of one key without a scan of every command per acquisition, and how each `DEL` releases its key
/// worked out once (it depends on the `DEL` and its key's text only, and a generated or large file releases one
/// key from many claims).
struct CommandKeys<'c, 't> {
    commands: &'c [StoreCommand<'t>],
    keys: Vec<Option<String>>,
    by_key: FxHashMap<String, Vec<usize>>,
    delete_kinds: std::cell::RefCell<FxHashMap<usize, ReleaseKind>>,
}

impl<'c, 't> CommandKeys<'c, 't> {
    fn new(facts: &FileFacts<'t>, source: &str, commands: &'c [StoreCommand<'t>]) -> Self {
        let keys: Vec<Option<String>> = commands
            .iter()
            .map(|c| c.key.map(|k| key_text(source, facts.language, k)))
            .collect();
        let mut by_key: FxHashMap<String, Vec<usize>> = FxHashMap::default();
        for (index, key) in keys.iter().enumerate() {
            if let Some(key) = key {
                by_key.entry(key.clone()).or_default().push(index);
            }
        }
        CommandKeys {
            commands,
            keys,
            by_key,
            delete_kinds: Default::default(),
        }
    }

    /// The commands whose key reads `key`, in the file's order.
    fn with_key<'s>(
        &'s self,
        key: &str,
    ) -> impl Iterator<Item = (usize, &'c StoreCommand<'t>)> + 's {
        self.by_key
            .get(key)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|&i| (i, &self.commands[i]))
    }

    /// How the `DEL` at `commands[del]` releases its key (see [`delete_kind`]).
    fn delete_kind(&self, facts: &FileFacts<'t>, source: &str, del: usize) -> ReleaseKind {
        if let Some(kind) = self.delete_kinds.borrow().get(&del) {
            return kind.clone();
        }
        let kind = delete_kind(facts, source, self, del);
        self.delete_kinds.borrow_mut().insert(del, kind.clone());
        kind
    }
}

/// The `DEL`s of the claimed key and a separate `EXPIRE` after the claim.
fn redis_releases<'t>(
    facts: &FileFacts<'t>,
    source: &str,
    commands: &CommandKeys<'_, 't>,
    acquisition: &mut Acquisition<'t, '_>,
) {
    let Some(key) = acquisition.key else { return };
    let claim = &facts.calls[acquisition.call];
    let wanted = key_text(source, facts.language, key);
    let same_key = SameKey::new(facts, source, claim, key);
    for (index, command) in commands.with_key(&wanted) {
        let call = &facts.calls[command.call];
        if !same_key.names(call) {
            continue;
        }
        let after = call.node.start_byte() > claim.node.end_byte();
        match command.name.as_str() {
            "DEL" | "UNLINK" => {
                let same_function = outermost(facts, call) == same_key.function;
                let deferred = is_deferred(facts, call.node);
                if same_function && !after && !deferred {
                    continue;
                }
                let kind = commands.delete_kind(facts, source, index);
                acquisition.releases.push(Release {
                    call: command.call,
                    kind,
                    deferred,
                });
            }
            "EXPIRE" | "PEXPIRE" | "EXPIREAT" | "PEXPIREAT"
                if after && acquisition.expire.is_none() =>
            {
                acquisition.expire = Some(command.call);
            }
            _ => {}
        }
    }
}

/// `DEL`s of a key field of the method's own type that no acquisition of the file releases or takes.
fn handed_over<'t>(
    facts: &FileFacts<'t>,
    source: &str,
    commands: &CommandKeys<'_, 't>,
    acquisitions: &[Acquisition<'t, '_>],
) -> Vec<HandedOver> {
    let mut found = Vec::new();
    // What the file's acquisitions release and take, gathered once rather than per `DEL`.
    let mut released = std::collections::HashSet::new();
    let mut taken = std::collections::HashSet::new();
    for a in acquisitions {
        released.extend(a.releases.iter().map(|r| r.call));
        taken.extend(a.key.map(|k| key_text(source, facts.language, k)));
    }
    for (index, (command, key_written)) in commands.commands.iter().zip(&commands.keys).enumerate()
    {
        let (Some(key), Some(key_written)) = (command.key, key_written) else {
            continue;
        };
        if !matches!(command.name.as_str(), "DEL" | "UNLINK") {
            continue;
        }
        let field = matches!(
            node::strip_wrappers(key, node::Wrappers::BORROW).kind(),
            "selector_expression" | "field_expression" | "member_expression"
        );
        if !field {
            continue;
        }
        if released.contains(&command.call) || taken.contains(key_written) {
            continue;
        }
        let call = &facts.calls[command.call];
        let Some(function) = outermost(facts, call) else {
            continue;
        };
        let Some(owner) = facts.functions[function].owner() else {
            continue;
        };
        let kind = commands.delete_kind(facts, source, index);
        found.push(HandedOver {
            call: command.call,
            key: key_written.clone(),
            owner: owner.to_string(),
            kind,
        });
    }
    found
}

fn outermost(facts: &FileFacts<'_>, call: &Call<'_>) -> Option<usize> {
    call.function.map(|f| facts.outermost_function(f))
}

/// The indexes of the calls whose outermost function is `scope` (`None`: the calls outside every function), in
/// document order. Inside a function this is a binary search by its range, not a scan of every call of the
/// file per question (which made the model quadratic in the file's size).
pub fn calls_in_scope<'f>(
    facts: &'f FileFacts<'_>,
    scope: Option<usize>,
) -> impl Iterator<Item = usize> + 'f {
    let inside = scope
        .map(|f| facts.call_indexes_within(facts.functions[f].range()))
        .into_iter()
        .flatten();
    let outside = scope
        .is_none()
        .then(|| (0..facts.calls.len()).filter(|&i| facts.calls[i].function.is_none()))
        .into_iter()
        .flatten();
    inside.chain(outside)
}

/// Whether another command's key expression, of the same text as a claim's, names the same key: in the same
/// function; or, across functions, when the claim's key is a string literal, or the same field of the same type
/// (`l.key` in `Lock.Acquire` and `Release`). What depends on the claim alone is worked out once: a file that
/// claims one literal key in many places pairs each claim with every command of that key.
struct SameKey<'f, 't> {
    facts: &'f FileFacts<'t>,
    /// The claim's outermost function.
    function: Option<usize>,
    literal: bool,
    /// The type owning the claim's function, when the key is a field.
    field_owner: Option<&'f str>,
}

impl<'f, 't> SameKey<'f, 't> {
    fn new(facts: &'f FileFacts<'t>, source: &str, claim: &Call<'_>, key: Node<'_>) -> Self {
        let function = outermost(facts, claim);
        let field = matches!(
            node::strip_wrappers(key, node::Wrappers::BORROW).kind(),
            "selector_expression" | "field_expression" | "member_expression"
        );
        SameKey {
            facts,
            function,
            literal: node::string_literal_value(key, source, facts.language).is_some(),
            field_owner: function
                .filter(|_| field)
                .and_then(|f| facts.functions[f].owner()),
        }
    }

    fn names(&self, other: &Call<'_>) -> bool {
        let other = outermost(self.facts, other);
        if self.function.is_none() || other.is_none() {
            return false;
        }
        if self.function == other || self.literal {
            return true;
        }
        self.field_owner.is_some()
            && self.field_owner == other.and_then(|f| self.facts.functions[f].owner())
    }
}

/// How a `DEL` of the lock's key releases it: inside a `WATCH`/`MULTI` transaction, after a separate `GET` of
/// the token, or blindly. `del` indexes the file's commands.
fn delete_kind<'t>(
    facts: &FileFacts<'t>,
    source: &str,
    commands: &CommandKeys<'_, 't>,
    del: usize,
) -> ReleaseKind {
    if in_transaction(facts, source, commands, del) {
        ReleaseKind::DeleteInTransaction
    } else if let Some(get) = get_before(facts, commands, del) {
        ReleaseKind::DeleteAfterGet(get)
    } else {
        ReleaseKind::Delete
    }
}

/// A `DEL` inside a callback of a `Watch`/`transaction` call, or after a `WATCH` of the key in its function.
fn in_transaction<'t>(
    facts: &FileFacts<'t>,
    source: &str,
    commands: &CommandKeys<'_, 't>,
    del: usize,
) -> bool {
    let call = &facts.calls[commands.commands[del].call];
    // A callback argument that holds the `DEL` lies inside the call it is passed to: the candidates are the
    // calls among the `DEL`'s ancestors, not every call of the file.
    let in_watch_callback = facts
        .ancestors(call.node)
        .filter_map(|n| facts.call_index(n))
        .map(|i| &facts.calls[i])
        .any(|c| {
            let name = c
                .method
                .as_deref()
                .unwrap_or_else(|| dsr_core::kb::last_segment(&c.callee_text));
            matches!(
                name,
                "Watch" | "watch" | "transaction" | "transaction_async"
            ) && c.args.iter().any(|a| {
                node::function_kinds(facts.language).contains(&a.kind())
                    && TextRange::of(*a).contains_range(call.range())
            })
        });
    if in_watch_callback {
        return true;
    }
    let Some(wanted) = commands.keys[del].as_deref() else {
        return false;
    };
    let language = facts.language;
    let watched = |c: &Call<'_>| {
        c.node.start_byte() < call.node.start_byte()
            && outermost(facts, c) == outermost(facts, call)
    };
    commands
        .with_key(wanted)
        .any(|(_, w)| w.name == "WATCH" && watched(&facts.calls[w.call]))
        || calls_in_scope(facts, outermost(facts, call)).any(|i| {
            let c = &facts.calls[i];
            matches!(c.method.as_deref(), Some("watch" | "Watch"))
                && watched(c)
                && c.args
                    .iter()
                    .any(|a| key_text(source, language, *a) == wanted)
        })
}

/// A `GET` of the same key before the `DEL` in its function.
fn get_before(facts: &FileFacts<'_>, commands: &CommandKeys<'_, '_>, del: usize) -> Option<usize> {
    let call = &facts.calls[commands.commands[del].call];
    let wanted = commands.keys[del].as_deref()?;
    commands
        .with_key(wanted)
        .find(|(_, g)| {
            let get = &facts.calls[g.call];
            g.name == "GET"
                && get.node.start_byte() < call.node.start_byte()
                && outermost(facts, get) == outermost(facts, call)
        })
        .map(|(_, g)| g.call)
}

/// Inside a Go `defer` or a TS/JS `finally` block.
pub fn is_deferred<'f>(facts: &FileFacts<'f>, n: Node<'f>) -> bool {
    facts
        .ancestors(n)
        .take_while(|a| !a.kind().contains("function") && a.kind() != "method_definition")
        .any(|a| matches!(a.kind(), "defer_statement" | "finally_clause"))
}

// ---------------------------------------------------------------------------------------------------------
// etcd: `Txn(ctx).If(Compare(CreateRevision(k), "=", 0)).Then(OpPut(k, v, …))`.

fn etcd_transactions<'t, 'k>(
    facts: &FileFacts<'t>,
    kb: &KnowledgeBase,
) -> Vec<Acquisition<'t, 'k>> {
    let mut out = Vec::new();
    for (index, call) in facts.calls.iter().enumerate() {
        let is_txn_put = call
            .path
            .as_deref()
            .is_some_and(|p| kb.is_in_group(facts.language, p, PathGroupKind::TxnPut));
        if !is_txn_put || !in_create_if_absent_txn(facts, kb, call.node) {
            continue;
        }
        // The put's options (kb `params` role `options...`) hold its lease, if any: an option of kb role
        // `expiry` (`clientv3.WithLease(id)`).
        let options_from = call
            .path
            .as_deref()
            .and_then(|p| kb.api(facts.language, p))
            .and_then(|api| api.param("options..."))
            .unwrap_or(call.args.len());
        let lease = call.args.iter().skip(options_from).find(|option| {
            facts.call_index(**option).is_some_and(|i| {
                kb.role_of(facts, &facts.calls[i], &[ApiRole::Expiry])
                    .is_some()
            })
        });
        out.push(Acquisition {
            call: index,
            mechanism: Mechanism::EtcdTxn,
            scope: LockScope::Distributed,
            key: call.args.first().copied(),
            token: call.args.get(1).copied(),
            expiry: lease.map_or(Expiry::None, |l| Expiry::At(*l)),
            purpose: Purpose::Unknown,
            lock: None,
            handle: None,
            statement: None,
            body: None,
            declared: true,
            releases: Vec::new(),
            expire: None,
        });
    }
    out
}

/// The put is an argument of `.Then(…)` on an `.If(…)` that compares a kb `absence-compare` target
/// (`CreateRevision`/`Version`: the key does not exist yet).
fn in_create_if_absent_txn<'f>(facts: &FileFacts<'f>, kb: &KnowledgeBase, put: Node<'f>) -> bool {
    let call_at = |n: Node<'f>| facts.call_index(n).map(|i| &facts.calls[i]);
    let Some(then) = facts.ancestors(put).find(|n| {
        n.kind() == "call_expression"
            && call_at(*n).is_some_and(|c| c.method.as_deref() == Some("Then"))
    }) else {
        return false;
    };
    let Some(condition) = call_at(then).and_then(|c| c.receiver) else {
        return false;
    };
    let Some(if_call) = call_at(condition).filter(|c| c.method.as_deref() == Some("If")) else {
        return false;
    };
    let range = if_call.range();
    facts.calls_within(range).any(|c| {
        range.contains_range(c.range())
            && c.path
                .as_deref()
                .is_some_and(|p| kb.is_in_group(facts.language, p, PathGroupKind::AbsenceCompare))
    })
}

// ---------------------------------------------------------------------------------------------------------
// Lock libraries and lock types.

/// A call of an acquire or scoped method on a value the file shows to be a lock of a known library.
fn library_acquisition<'t, 'k>(
    facts: &FileFacts<'t>,
    source: &str,
    kb: &'k KnowledgeBase,
    scanner: &Scanner<'t>,
    index: usize,
    call: &Call<'t>,
) -> Option<Acquisition<'t, 'k>> {
    let method = call.method.as_deref()?;
    let receiver = node::strip_wrappers(call.receiver?, node::Wrappers::CHAIN);
    let is_candidate = kb
        .lock_libraries(facts.language)
        .any(|l| l.acquire.iter().any(|a| a == method) || l.scoped.iter().any(|a| a == method));
    if !is_candidate {
        return None;
    }
    let found = lock_of(facts, source, kb, scanner, call, receiver)?;
    let library = found.library;
    let scoped = library.scoped.iter().any(|s| s == method);
    if !scoped && !library.acquire.iter().any(|a| a == method) {
        return None;
    }
    let awaited = facts
        .parent(call.node)
        .is_some_and(|p| p.kind() == "await_expression");
    // `lock()` on a std mutex and on a tokio mutex differ only in the `.await`: when the type is inferred from
    // the imports, the `.await` has to agree.
    if !found.declared && facts.language == Language::Rust && awaited != library.awaited {
        return None;
    }
    let key = match (library.constructor_key, library.acquire_key) {
        (Some(at), _) => found
            .constructor
            .and_then(|c| facts.calls[c].args.get(at).copied()),
        (None, Some(at)) => call.args.get(at).copied(),
        _ => None,
    };
    let expiry = match library.acquire_expiry.and_then(|at| call.args.get(at)) {
        Some(e) => Expiry::At(*e),
        None if library.scope == LockScope::Distributed && library.default_expiry.is_some() => {
            Expiry::Default
        }
        None if library.scope == LockScope::Distributed => Expiry::Unknown,
        None => Expiry::None,
    };
    let body = scoped
        .then(|| {
            call.args
                .iter()
                .rev()
                .find(|a| node::function_kinds(facts.language).contains(&a.kind()))
                .copied()
        })
        .flatten();
    let mut acquisition = Acquisition {
        call: index,
        mechanism: Mechanism::Library(library),
        scope: library.scope,
        key,
        token: None,
        expiry,
        purpose: Purpose::Lock,
        lock: Some(compact(node::text(receiver, source))),
        handle: None,
        statement: None,
        body,
        declared: found.declared,
        releases: Vec::new(),
        expire: None,
    };
    bind(facts, source, &mut acquisition);
    library_releases(facts, source, library, &mut acquisition);
    Some(acquisition)
}

/// What the file shows about a lock value: its library, the constructor call that made it, and whether a
/// declaration says so (rather than the file's imports).
struct FoundLock<'k> {
    library: &'k LockLibrary,
    /// Index of the constructor call in [`FileFacts::calls`].
    constructor: Option<usize>,
    declared: bool,
}

/// The lock library of the value `receiver` (a lock object or a lock manager) at `call`.
fn lock_of<'t, 'k>(
    facts: &FileFacts<'t>,
    source: &str,
    kb: &'k KnowledgeBase,
    scanner: &Scanner<'t>,
    call: &Call<'t>,
    receiver: Node<'t>,
) -> Option<FoundLock<'k>> {
    // `rs.NewMutex(key).Lock()`, `Mutex::new(0).lock()`.
    if let Some(found) = constructed(facts, kb, receiver, 0) {
        return Some(found);
    }
    let language = facts.language;
    let name = match receiver.kind() {
        "identifier" => Some(node::text(receiver, source)),
        _ => None,
    };
    if let Some(name) = name {
        if let Some(value) = facts.declared_value(call.function, name, call.node.start_byte()) {
            if let Some(found) = constructed(facts, kb, value, 0) {
                return Some(found);
            }
            // Declared from something else: not a lock this model knows.
            if value.kind() != "identifier" {
                return None;
            }
        }
        if let Some(type_node) = scanner.param_type(facts, source, call, name) {
            return typed(facts, source, kb, type_node);
        }
        if let Some(type_node) = scanner.var_type(name) {
            return typed(facts, source, kb, type_node);
        }
    }
    let field = match receiver.kind() {
        "selector_expression" | "field_expression" => receiver.child_by_field_name("field"),
        "member_expression" => receiver.child_by_field_name("property"),
        _ => None,
    }
    .map(|f| node::text(f, source));
    if let Some(field) = field {
        for declaration in scanner.fields(field) {
            if let Some(found) = match declaration {
                FieldDecl::Type(t) => typed(facts, source, kb, t),
                FieldDecl::Value(v) => constructed(facts, kb, v, 0),
            } {
                return Some(found);
            }
        }
    }
    // Go: a method on a struct that embeds the mutex (`s.Lock()` with `type S struct { sync.Mutex }`).
    if language == Language::Go {
        if let Some(found) = scanner.embedded().find_map(|t| typed(facts, source, kb, t)) {
            let method = call.method.as_deref().unwrap_or_default();
            if found.library.acquire.iter().any(|a| a == method) && call.args.is_empty() {
                return Some(found);
            }
        }
    }
    imported(facts, kb, call)
}

/// A lock made by a constructor call (looking through `Arc::new`, `&`, `await`, wrappers such as
/// `withTimeout(new Mutex(), ms)`).
fn constructed<'t, 'k>(
    facts: &FileFacts<'t>,
    kb: &'k KnowledgeBase,
    value: Node<'t>,
    depth: usize,
) -> Option<FoundLock<'k>> {
    if depth > 4 {
        return None;
    }
    let value = node::strip_wrappers(
        node::strip_wrappers(value, node::Wrappers::BORROW),
        node::Wrappers::CHAIN,
    );
    let value = if value.kind() == "unary_expression" {
        value.named_child(0).unwrap_or(value)
    } else {
        value
    };
    let index = facts.call_index(value)?;
    let call = &facts.calls[index];
    if let Some((library, wrapper)) = kb.lock_constructor(facts, call) {
        if !wrapper {
            return Some(FoundLock {
                library,
                constructor: Some(index),
                declared: true,
            });
        }
        return constructed(facts, kb, *call.args.first()?, depth + 1);
    }
    // `Arc::new(Mutex::new(x))`, `Rc::new(…)`, `Box::new(…)`.
    let wrapper = call.callee_text.trim_start_matches("std::sync::");
    if matches!(
        wrapper,
        "Arc::new" | "Rc::new" | "Box::new" | "std::rc::Rc::new" | "std::boxed::Box::new"
    ) {
        return constructed(facts, kb, *call.args.first()?, depth + 1);
    }
    None
}

/// A lock of a declared type (`sync.Mutex`, `*sync.RWMutex`, `Arc<Mutex<T>>`, `&tokio::sync::Mutex<T>`,
/// `MutexInterface`).
fn typed<'t, 'k>(
    facts: &FileFacts<'t>,
    source: &str,
    kb: &'k KnowledgeBase,
    type_node: Node<'t>,
) -> Option<FoundLock<'k>> {
    let mut t = type_node;
    loop {
        match t.kind() {
            "pointer_type" | "reference_type" | "type_annotation" | "parenthesized_type" => {
                t = node::named_children(t)
                    .find(|c| c.kind() != "mutable_specifier" && c.kind() != "lifetime")?;
            }
            "generic_type" => {
                let head = t.child_by_field_name("type")?;
                let head_text = node::text(head, source);
                let last = head_text.rsplit("::").next().unwrap_or(head_text);
                if matches!(last, "Arc" | "Rc" | "Box") {
                    let arguments = t.child_by_field_name("type_arguments")?;
                    t = node::named_children(arguments).next()?;
                } else {
                    t = head;
                }
            }
            _ => break,
        }
    }
    let written = compact(node::text(t, source));
    let path = facts.resolve(&written)?;
    kb.lock_type(facts.language, &path)
        .map(|library| FoundLock {
            library,
            constructor: None,
            declared: true,
        })
}

/// No declaration in the file says what the receiver is: the one lock type the file imports whose acquire
/// method this is. For Go, a zero-argument `Lock()`/`RLock()` in a file that imports `sync` and no distributed
/// lock library.
fn imported<'t, 'k>(
    facts: &FileFacts<'t>,
    kb: &'k KnowledgeBase,
    call: &Call<'t>,
) -> Option<FoundLock<'k>> {
    let method = call.method.as_deref()?;
    let mut candidates = kb.lock_libraries(facts.language).filter(|library| {
        library.scope == LockScope::Process
            && library
                .acquire
                .iter()
                .chain(&library.scoped)
                .any(|a| a == method)
            && library.types.iter().any(|t| {
                facts.imports.iter().any(|i| &i.path == t)
                    || facts.language == Language::Go
                        && t.rsplit_once('.').is_some_and(|(module, _)| {
                            facts.imports.iter().any(|i| i.path == module)
                        })
            })
    });
    let library = candidates.next()?;
    let distributed_imported = kb
        .lock_libraries(facts.language)
        .filter(|l| l.scope == LockScope::Distributed)
        .any(|l| {
            l.module.as_deref().is_some_and(|m| facts.imports_module(m))
                || l.constructors.iter().any(|c| {
                    facts
                        .imports
                        .iter()
                        .any(|i| c.starts_with(&i.path) && !i.path.is_empty())
                })
        });
    if distributed_imported {
        return None;
    }
    if facts.language == Language::Go {
        // `sync.Mutex` and `sync.RWMutex` share `Lock`; either is a process lock.
        if !call.args.is_empty() {
            return None;
        }
    } else if candidates.next().is_some() {
        return None;
    }
    Some(FoundLock {
        library,
        constructor: None,
        declared: false,
    })
}

/// The library's release calls for an acquisition in the same function: a release method on the lock, on the
/// handle, or on the manager with the handle as an argument; the handle called (async-mutex's `release()`);
/// `drop(guard)` for guards.
fn library_releases(
    facts: &FileFacts<'_>,
    source: &str,
    library: &LockLibrary,
    acquisition: &mut Acquisition<'_, '_>,
) {
    let acquire = &facts.calls[acquisition.call];
    let scope = outermost(facts, acquire);
    let handle = acquisition.handle.clone().filter(|h| h != "_");
    for index in calls_in_scope(facts, scope) {
        let call = &facts.calls[index];
        if index == acquisition.call {
            continue;
        }
        let receiver = call.receiver.map(|r| {
            compact(node::text(
                node::strip_wrappers(r, node::Wrappers::CHAIN),
                source,
            ))
        });
        let args: Vec<String> = call
            .args
            .iter()
            .map(|a| {
                compact(node::text(*a, source))
                    .trim_start_matches('&')
                    .to_string()
            })
            .collect();
        let on_lock = receiver.is_some() && receiver == acquisition.lock;
        let on_handle = handle.is_some() && receiver == handle;
        let with_handle = handle.as_ref().is_some_and(|h| args.contains(h));
        let is_release = match call.method.as_deref() {
            Some(m) if library.release.iter().any(|r| r == m) => {
                on_handle || (on_lock && (library.acquire_key.is_none() || with_handle))
            }
            Some(_) => false,
            None => {
                let callee = call.callee_text.as_str();
                (handle.as_deref() == Some(callee))
                    || (library.guard
                        && matches!(callee, "drop" | "std::mem::drop" | "mem::drop")
                        && with_handle)
            }
        };
        if is_release {
            acquisition.releases.push(Release {
                call: index,
                kind: ReleaseKind::Library,
                deferred: is_deferred(facts, call.node),
            });
        }
    }
}

/// The local an acquisition's result is bound to, looking through `await`, `?`, `.unwrap()`/`.expect(…)` and
/// Go's `x, err :=`; and the statement that binds it (else the statement the call is in).
fn bind<'t>(facts: &FileFacts<'t>, source: &str, acquisition: &mut Acquisition<'t, '_>) {
    let call = &facts.calls[acquisition.call];
    let mut current = call.node;
    while let Some(parent) = facts.parent(current) {
        match parent.kind() {
            "await_expression" | "try_expression" | "parenthesized_expression" => current = parent,
            "field_expression" => {
                let outer = facts
                    .parent(parent)
                    .filter(|p| p.kind() == "call_expression");
                let unwraps = parent.child_by_field_name("field").is_some_and(|f| {
                    matches!(
                        node::text(f, source),
                        "unwrap" | "expect" | "unwrap_or_else" | "unwrap_or_default"
                    )
                });
                match outer {
                    Some(outer) if unwraps => current = outer,
                    _ => break,
                }
            }
            "expression_list" => current = parent,
            _ => break,
        }
    }
    let statement = facts.parent(current);
    let (handle, statement) = match statement.map(|s| (s, s.kind())) {
        Some((s, "let_declaration")) => (
            s.child_by_field_name("pattern")
                .map(|p| compact(node::text(p, source)))
                .map(|p| p.strip_prefix("mut").map(str::to_string).unwrap_or(p)),
            Some(s),
        ),
        Some((s, "short_var_declaration" | "assignment_statement")) => (
            s.child_by_field_name("left")
                .and_then(|l| node::named_children(l).next())
                .map(|l| node::text(l, source).to_string()),
            Some(s),
        ),
        Some((s, "variable_declarator")) => (
            s.child_by_field_name("name")
                .map(|n| compact(node::text(n, source))),
            facts.parent(s),
        ),
        _ => (None, None),
    };
    acquisition.handle = handle;
    acquisition.statement = statement.or_else(|| facts.enclosing_statement(call.node));
}

// ---------------------------------------------------------------------------------------------------------
// Declarations the file shows: struct/class fields, Go `var`s, embedded fields, parameters.

enum FieldDecl<'t> {
    Type(Node<'t>),
    Value(Node<'t>),
}

/// One pass over the tree for the declarations receivers are resolved against.
struct Scanner<'t> {
    fields: FxHashMap<String, Vec<Node<'t>>>,
    field_values: FxHashMap<String, Vec<Node<'t>>>,
    vars: FxHashMap<String, Node<'t>>,
    embedded: Vec<Node<'t>>,
}

impl<'t> Scanner<'t> {
    fn new(facts: &FileFacts<'t>, source: &str) -> Self {
        let mut scanner = Scanner {
            fields: FxHashMap::default(),
            field_values: FxHashMap::default(),
            vars: FxHashMap::default(),
            embedded: Vec::new(),
        };
        if facts.functions.is_empty() && facts.calls.is_empty() {
            return scanner;
        }
        for n in facts.nodes_of_kind(&[
            "field_declaration",
            "public_field_definition",
            "field_definition",
            "var_spec",
        ]) {
            match n.kind() {
                "field_declaration" => {
                    let Some(t) = n.child_by_field_name("type") else {
                        continue;
                    };
                    let mut cursor = n.walk();
                    let names: Vec<_> = n.children_by_field_name("name", &mut cursor).collect();
                    if names.is_empty() {
                        scanner.embedded.push(t);
                    }
                    for name in names {
                        scanner
                            .fields
                            .entry(node::text(name, source).to_string())
                            .or_default()
                            .push(t);
                    }
                }
                "public_field_definition" | "field_definition" => {
                    let Some(name) = n
                        .child_by_field_name("name")
                        .or_else(|| n.child_by_field_name("property"))
                    else {
                        continue;
                    };
                    let name = node::text(name, source).to_string();
                    if let Some(t) = n.child_by_field_name("type") {
                        scanner.fields.entry(name.clone()).or_default().push(t);
                    }
                    if let Some(v) = n.child_by_field_name("value") {
                        scanner.field_values.entry(name).or_default().push(v);
                    }
                }
                "var_spec" => {
                    let Some(t) = n.child_by_field_name("type") else {
                        continue;
                    };
                    let mut cursor = n.walk();
                    for name in n.children_by_field_name("name", &mut cursor) {
                        scanner.vars.insert(node::text(name, source).to_string(), t);
                    }
                }
                _ => {}
            }
        }
        scanner
    }

    fn fields<'s>(&'s self, name: &str) -> impl Iterator<Item = FieldDecl<'t>> + 's {
        let types = self.fields.get(name).into_iter().flatten();
        let values = self.field_values.get(name).into_iter().flatten();
        types
            .map(|t| FieldDecl::Type(*t))
            .chain(values.map(|v| FieldDecl::Value(*v)))
    }

    fn var_type(&self, name: &str) -> Option<Node<'t>> {
        self.vars.get(name).copied()
    }

    fn embedded(&self) -> impl Iterator<Item = Node<'t>> + '_ {
        self.embedded.iter().copied()
    }

    /// The declared type of a parameter `name` of the function `call` is in, or of a function it is nested in.
    fn param_type(
        &self,
        facts: &FileFacts<'t>,
        source: &str,
        call: &Call<'t>,
        name: &str,
    ) -> Option<Node<'t>> {
        let mut current = call.function;
        while let Some(index) = current {
            let function = facts.functions.get(index)?;
            if let Some(list) = function.node.child_by_field_name("parameters") {
                for p in node::named_children(list) {
                    let mut cursor = p.walk();
                    let names: Vec<Node<'t>> = p
                        .children_by_field_name("name", &mut cursor)
                        .chain(p.child_by_field_name("pattern"))
                        .collect();
                    if names.iter().any(|n| node::text(*n, source) == name) {
                        return p.child_by_field_name("type");
                    }
                }
            }
            current = function.parent;
        }
        None
    }
}

// ---------------------------------------------------------------------------------------------------------
// What a key is for.

/// Words in a key, a value or a function name that say "this is a lock".
const LOCK_WORDS: &[&str] = &[
    "lock",
    "mutex",
    "mtx",
    "lease",
    "leader",
    "semaphore",
    "election",
];
const LOCK_FUNCTION_WORDS: &[&str] = &["lock", "acquire", "mutex", "leader", "lease", "elect"];
const LOCK_VALUE_WORDS: &[&str] = &["token", "owner", "holder", "fencing"];
/// Names of the variable a claim's reply goes to.
const LOCK_RESULT_WORDS: &[&str] = &["lock", "acquired", "got", "held", "owner", "leader"];
const DEDUP_RESULT_WORDS: &[&str] = &["first", "fresh", "new", "dup", "duplicate", "seen"];
/// Words that say "this is a deduplication record".
const DEDUP_WORDS: &[&str] = &[
    "idempot",
    "idem",
    "dedup",
    "dedupe",
    "processed",
    "seen",
    "handled",
    "consumed",
];

/// What a key taken if absent is for. The key's own name decides first (a lock word, then a deduplication
/// word); then a release of the key (a `DEL` of it: a lock); then the code around it — the function's name,
/// the local the reply goes to, the value stored.
pub fn classify(
    facts: &FileFacts<'_>,
    source: &str,
    call: usize,
    key: Option<Node<'_>>,
    value: Option<Node<'_>>,
    released: bool,
) -> Purpose {
    let Some(claim) = facts.calls.get(call) else {
        return Purpose::Unknown;
    };
    let function_words = words(&component(facts, claim));
    let key_words = key
        .map(|k| described_words(facts, source, claim, k))
        .unwrap_or_default();
    let value_words = value
        .map(|v| described_words(facts, source, claim, v))
        .unwrap_or_default();
    // `first := conn.set_nx(…)`, `acquired, err := rdb.SetNX(…)`.
    let result_words: Vec<String> = facts
        .assignments_in(claim.function)
        .filter(|a| {
            a.value
                .is_some_and(|v| TextRange::of(v).contains_range(claim.range()))
        })
        .flat_map(|a| words(&a.target))
        .collect();
    if has_word(&key_words, LOCK_WORDS) {
        Purpose::Lock
    } else if has_word(&key_words, DEDUP_WORDS) {
        Purpose::Dedup
    } else if released
        || has_word(&function_words, LOCK_FUNCTION_WORDS)
        || has_word(&result_words, LOCK_RESULT_WORDS)
        || has_word(&value_words, LOCK_VALUE_WORDS)
    {
        Purpose::Lock
    } else if has_word(&function_words, DEDUP_WORDS) || has_word(&result_words, DEDUP_RESULT_WORDS)
    {
        Purpose::Dedup
    } else {
        Purpose::Unknown
    }
}

/// The name of the function a call is in (the nearest named one for closures), else its component.
fn component(facts: &FileFacts<'_>, call: &Call<'_>) -> String {
    let mut current = call.function;
    while let Some(index) = current {
        let function = &facts.functions[index];
        if function.name != ANONYMOUS {
            return function.name.clone();
        }
        current = function.parent;
    }
    facts.component_at(call.node.start_byte())
}

/// The words of an expression, and of the value a local it names was declared with (`key :=
/// fmt.Sprintf("lease:%s", id)` makes `key` a lease).
fn described_words(
    facts: &FileFacts<'_>,
    source: &str,
    call: &Call<'_>,
    n: Node<'_>,
) -> Vec<String> {
    let mut out = words(&key_text(source, facts.language, n));
    let name = compact(node::text(n, source));
    let name = name.trim_start_matches('&');
    if name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        if let Some(value) = facts.declared_value(call.function, name, call.node.start_byte()) {
            out.extend(words(node::text(value, source)));
        }
    }
    out
}

/// The key as the reader knows it: a string literal's contents, else the expression without whitespace and
/// `&`.
pub fn key_text(source: &str, language: Language, key: Node<'_>) -> String {
    // redlock's `["resource"]`: one key in a list.
    if matches!(key.kind(), "array" | "array_expression") && key.named_child_count() == 1 {
        if let Some(only) = key.named_child(0) {
            return key_text(source, language, only);
        }
    }
    node::string_literal_value(key, source, language).unwrap_or_else(|| {
        compact(node::text(key, source))
            .trim_start_matches('&')
            .to_string()
    })
}

/// Lower-case words of an identifier-ish text: `acquireLock("lock:job:"+id)` → acquire, lock, lock, job, id.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for ch in text.chars() {
        if !ch.is_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if ch.is_uppercase() && previous_lower && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        previous_lower = ch.is_lowercase() || ch.is_ascii_digit();
        current.extend(ch.to_lowercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// A word that is, or starts with, one of `stems` (`locks`, `locked`, `idempotency`).
pub fn has_word(words: &[String], stems: &[&str]) -> bool {
    words.iter().any(|w| stems.iter().any(|s| w.starts_with(s)))
}

#[cfg(test)]
mod tests;
