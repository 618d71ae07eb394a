//! What a file's facts asked of the workspace's declarations while it was summarized before they were known.
//!
//! Indexing summarizes every file once with [`RecordedQuestions`] standing in for the workspace's declarations:
//! it answers every question with "nothing" (or as a partial view of the declarations answers it, see
//! [`RecordedQuestions::answering_with`]) and notes the question with its answer. Once every file's
//! declarations are linked, the questions are asked again of the real declarations
//! ([`RecordedQuestions::any_answered_differently`]). A summary is a function of the file's text and of those
//! answers only, so a file each of whose questions gets the answer it got would be summarized exactly the same
//! again and keeps its summary; only the others are summarized once more. This replaces a separate
//! declarations-only pass over every file (a parse and the facts each).

use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;

use crate::facts::{ReceiverType, WorkspaceTypes};
use crate::index::IndexView;

/// One question of [`WorkspaceTypes`], with its arguments.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
enum TypeQuestion {
    Field {
        owner: ReceiverType,
        field: String,
    },
    Canonical(ReceiverType),
    ReturnType {
        callee: String,
        path: Option<String>,
        method: Option<String>,
        receiver: Option<ReceiverType>,
    },
}

impl TypeQuestion {
    /// The answer `types` gives, as far as the facts use it: they follow a canonical name only when it
    /// differs from the name asked about, so a type that is its own canonical name counts as no answer.
    fn ask(&self, types: &dyn WorkspaceTypes) -> Option<ReceiverType> {
        match self {
            TypeQuestion::Field { owner, field } => types.field_type(owner, field),
            TypeQuestion::Canonical(ty) => types.canonical(ty).filter(|found| found != ty),
            TypeQuestion::ReturnType {
                callee,
                path,
                method,
                receiver,
            } => types.return_type(
                callee,
                path.as_deref(),
                method.as_deref(),
                receiver.as_ref(),
            ),
        }
    }
}

/// Answers as `answering` does (nothing without it) and remembers what was asked and answered (each
/// question once).
#[derive(Debug, Default)]
pub struct RecordedQuestions {
    answering: Option<Arc<dyn WorkspaceTypes>>,
    asked: Mutex<FxHashMap<TypeQuestion, Option<ReceiverType>>>,
    /// What a file's *analysis* asked of the linked index beyond the facts' type questions (the effects of a
    /// call, the callers' bounds of a parameter, a lock another method takes), with a digest of each answer:
    /// noted by an [`IndexView`] made to record ([`IndexSnapshot::recording_view`]). With the type questions,
    /// everything an analysis reads of the index: an analysis is a function of the file's text and these
    /// answers, so under an index that answers each of them alike it gives the same findings.
    looked_up: Mutex<FxHashMap<IndexLookup, Option<u64>>>,
}

/// One question an analysis asks of the linked index (besides [`TypeQuestion`]s), by its arguments.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum IndexLookup {
    /// [`IndexView::call_effects`]: a call, as the resolver reads it.
    CallEffects(CallKey),
    /// [`IndexView::remote_effect`]: a call, as the resolver reads it.
    RemoteEffect(CallKey),
    /// [`IndexView::bounded_by_callers`].
    BoundedByCallers { function: String, param: usize },
    /// [`IndexView::lock_taken_by_type`].
    LockTakenByType { owner: String, key: String },
}

/// A call as the resolver reads it (its callee text, path, method and receiver's type): the arguments of a
/// call lookup, kept with a recorded [`IndexLookup`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct CallKey {
    callee: String,
    path: Option<String>,
    method: Option<String>,
    receiver: Option<ReceiverType>,
}

/// A [`CallKey`] borrowed: what the index's call lookups take, so that a lookup that is not recorded copies
/// nothing.
#[derive(Clone, Copy)]
pub(crate) struct CallQuery<'a> {
    pub(crate) callee: &'a str,
    pub(crate) path: Option<&'a str>,
    pub(crate) method: Option<&'a str>,
    pub(crate) receiver: Option<&'a ReceiverType>,
}

impl CallQuery<'_> {
    pub(crate) fn key(&self) -> CallKey {
        CallKey {
            callee: self.callee.to_string(),
            path: self.path.map(str::to_string),
            method: self.method.map(str::to_string),
            receiver: self.receiver.cloned(),
        }
    }
}

impl CallKey {
    fn query(&self) -> CallQuery<'_> {
        CallQuery {
            callee: &self.callee,
            path: self.path.as_deref(),
            method: self.method.as_deref(),
            receiver: self.receiver.as_ref(),
        }
    }
}

impl IndexLookup {
    /// The digest of the answer `view` gives (`None`: no answer).
    pub fn ask(&self, view: &IndexView) -> Option<u64> {
        match self {
            IndexLookup::CallEffects(call) => view
                .call_effects_of(call.query())
                .map(|found| found.digest()),
            IndexLookup::RemoteEffect(call) => view
                .remote_effect_of(call.query())
                .as_ref()
                .map(super::remote_digest),
            IndexLookup::BoundedByCallers { function, param } => view
                .bounded_by_callers_unrecorded(function, *param)
                .map(|answer| answer_digest(&answer)),
            IndexLookup::LockTakenByType { owner, key } => view
                .lock_taken_by_type_unrecorded(owner, key)
                .map(|answer| answer_digest(&answer)),
        }
    }
}

/// A digest of an answer's `Debug` text: stable within one build of the program (the result cache keeps
/// one build's results apart from another's), and naming files by path, not by their place in one index.
pub(crate) fn answer_digest(answer: &impl std::fmt::Debug) -> u64 {
    xxhash_rust::xxh3::xxh3_64(format!("{answer:?}").as_bytes())
}

/// Whether `view` answers one of `types` or `lookups` otherwise than recorded.
fn answered_differently<'q>(
    mut types: impl Iterator<Item = (&'q TypeQuestion, &'q Option<ReceiverType>)>,
    mut lookups: impl Iterator<Item = (&'q IndexLookup, &'q Option<u64>)>,
    view: &IndexView,
) -> bool {
    types.any(|(question, answer)| question.ask(view) != *answer)
        || lookups.any(|(lookup, answer)| lookup.ask(view) != *answer)
}

/// Everything one analysis read of the index ([`RecordedQuestions`]), held apart from the analysis: kept with
/// its findings (on disk by `check`'s result cache, with a file's summary or its findings) and asked again of a later
/// index to tell whether the findings still hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AnalysisReads {
    types: Vec<(TypeQuestion, Option<ReceiverType>)>,
    lookups: Vec<(IndexLookup, Option<u64>)>,
}

impl AnalysisReads {
    /// Whether `view` answers some question otherwise than it was answered: if not, analysing the file again
    /// with `view` gives the findings it gave.
    pub fn answered_differently(&self, view: &IndexView) -> bool {
        answered_differently(
            self.types.iter().map(|(q, a)| (q, a)),
            self.lookups.iter().map(|(q, a)| (q, a)),
            view,
        )
    }

    /// How many questions were asked.
    pub fn len(&self) -> usize {
        self.types.len() + self.lookups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl RecordedQuestions {
    /// Answers every question "nothing".
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers as `types` does (some of the workspace's declarations: those of the files summarized
    /// together).
    pub fn answering_with(types: Arc<dyn WorkspaceTypes>) -> Self {
        RecordedQuestions {
            answering: Some(types),
            ..Self::default()
        }
    }

    /// The questions of `reads` with the answers they got, as if asked of this recorder (a summary kept from
    /// an earlier build: whether its questions are answered alike is asked as of one just made). It answers
    /// any further question "nothing".
    pub fn from_reads(reads: &AnalysisReads) -> Self {
        RecordedQuestions {
            asked: Mutex::new(reads.types.iter().cloned().collect()),
            ..Self::default()
        }
    }

    /// Notes a question of an analysis and the digest of its answer.
    pub(crate) fn note_lookup(&self, lookup: IndexLookup, answer: Option<u64>) {
        self.looked_up
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(lookup)
            .or_insert(answer);
    }

    /// Everything asked so far, with the answers, apart from this recorder.
    pub fn reads(&self) -> AnalysisReads {
        let mut types: Vec<_> = self
            .asked()
            .iter()
            .map(|(q, a)| (q.clone(), a.clone()))
            .collect();
        let mut lookups: Vec<_> = self
            .looked_up
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(q, a)| (q.clone(), *a))
            .collect();
        // In a stable order, so that the same reads serialize alike.
        types.sort_by_cached_key(|(q, _)| format!("{q:?}"));
        lookups.sort_by_cached_key(|(q, _)| format!("{q:?}"));
        AnalysisReads { types, lookups }
    }

    fn asked(&self) -> std::sync::MutexGuard<'_, FxHashMap<TypeQuestion, Option<ReceiverType>>> {
        // A poisoned lock only means another thread panicked while inserting: the map is still usable.
        self.asked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn note(&self, question: TypeQuestion) -> Option<ReceiverType> {
        if let Some(known) = self.asked().get(&question) {
            return known.clone();
        }
        let answer = self
            .answering
            .as_deref()
            .and_then(|types| question.ask(types));
        self.asked().insert(question, answer.clone());
        answer
    }

    /// How many distinct questions were asked.
    pub fn len(&self) -> usize {
        self.asked().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether some question asked could be about a declaration of a file nearby (of the same folder): a
    /// field or the canonical name of a type, or the return type of a function called without a path.
    /// A call through an imported package or module's path is answered by another folder's declarations.
    pub fn may_be_answered_nearby(&self) -> bool {
        self.asked().keys().any(|question| match question {
            TypeQuestion::Field { .. } | TypeQuestion::Canonical(_) => true,
            TypeQuestion::ReturnType { path, .. } => path.is_none(),
        })
    }

    /// Whether some question asked was answered (not every answer was "nothing").
    pub fn any_answer(&self) -> bool {
        self.asked().values().any(Option::is_some)
    }

    /// Whether `types` answers any of the questions asked otherwise than they were answered: if not, a
    /// summary computed with `types` equals the one computed while recording.
    pub fn any_answered_differently(&self, types: &dyn WorkspaceTypes) -> bool {
        self.asked()
            .iter()
            .any(|(question, answer)| question.ask(types) != *answer)
    }

    /// How many of the questions asked `types` answers otherwise than they were answered, by kind: a field's
    /// type, a type's canonical name, a function's return type (for measurements).
    pub fn answered_differently_by_kind(&self, types: &dyn WorkspaceTypes) -> [usize; 3] {
        let mut counts = [0; 3];
        for (question, answer) in self.asked().iter() {
            if question.ask(types) != *answer {
                counts[match question {
                    TypeQuestion::Field { .. } => 0,
                    TypeQuestion::Canonical(_) => 1,
                    TypeQuestion::ReturnType { .. } => 2,
                }] += 1;
            }
        }
        counts
    }
}

impl WorkspaceTypes for RecordedQuestions {
    fn field_type(&self, owner: &ReceiverType, field: &str) -> Option<ReceiverType> {
        self.note(TypeQuestion::Field {
            owner: owner.clone(),
            field: field.to_string(),
        })
    }

    fn canonical(&self, ty: &ReceiverType) -> Option<ReceiverType> {
        // The facts stop following a name once its canonical name is itself, so "itself" is answered
        // "nothing" ([`TypeQuestion::ask`]).
        self.note(TypeQuestion::Canonical(ty.clone()))
    }

    fn return_type(
        &self,
        callee: &str,
        path: Option<&str>,
        method: Option<&str>,
        receiver: Option<&ReceiverType>,
    ) -> Option<ReceiverType> {
        self.note(TypeQuestion::ReturnType {
            callee: callee.to_string(),
            path: path.map(str::to_string),
            method: method.map(str::to_string),
            receiver: receiver.cloned(),
        })
    }
}
