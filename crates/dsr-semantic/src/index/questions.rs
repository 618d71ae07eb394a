//! What a file's facts asked of the workspace's declarations while it was summarized before they were known.
//!
//! Indexing summarizes every file once with [`RecordedQuestions`] standing in for the workspace's declarations:
//! it answers every question with "nothing" and notes the question. Once every file's declarations are linked,
//! the questions are asked again of the real declarations ([`RecordedQuestions::any_answered`]). A summary is a
//! function of the file's text and of those answers only, so a file none of whose questions has an answer
//! would be summarized exactly the same again and keeps its first summary; only the others are summarized a
//! second time. This replaces a separate declarations-only pass over every file (a parse and the facts each).

use std::sync::Mutex;

use rustc_hash::FxHashSet;

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

/// Answers nothing and remembers what was asked (each question once).
#[derive(Debug, Default)]
pub struct RecordedQuestions {
    asked: Mutex<FxHashSet<TypeQuestion>>,
}

impl RecordedQuestions {
    pub fn new() -> Self {
        Self::default()
    }

    fn note(&self, question: TypeQuestion) {
        // A poisoned lock only means another thread panicked while inserting: the set is still usable.
        self.asked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(question);
    }

    /// How many distinct questions were asked.
    pub fn len(&self) -> usize {
        self.asked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `types` answers any of the questions asked: if not, a summary computed with `types` equals the
    /// one computed while recording.
    pub fn any_answered(&self, types: &dyn WorkspaceTypes) -> bool {
        let asked = self
            .asked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        asked.iter().any(|question| match question {
            TypeQuestion::Field { owner, field } => types.field_type(owner, field).is_some(),
            // The facts follow a canonical name only when it differs from the name asked about.
            TypeQuestion::Canonical(ty) => types.canonical(ty).is_some_and(|found| found != *ty),
            TypeQuestion::ReturnType {
                callee,
                path,
                method,
                receiver,
            } => types
                .return_type(
                    callee,
                    path.as_deref(),
                    method.as_deref(),
                    receiver.as_ref(),
                )
                .is_some(),
        })
    }
}

impl WorkspaceTypes for RecordedQuestions {
    fn field_type(&self, owner: &ReceiverType, field: &str) -> Option<ReceiverType> {
        self.note(TypeQuestion::Field {
            owner: owner.clone(),
            field: field.to_string(),
        });
        None
    }

    fn canonical(&self, ty: &ReceiverType) -> Option<ReceiverType> {
        self.note(TypeQuestion::Canonical(ty.clone()));
        None
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
        });
        None
    }
}
