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

/// One question of [`WorkspaceTypes`], with its arguments.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
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
            asked: Mutex::default(),
        }
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
