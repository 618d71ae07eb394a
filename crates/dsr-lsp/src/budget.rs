//! The time budget of one edit: the editor never waits on a slow analysis.
//!
//! When the edit's analysis is predicted late (a recent analysis of the document took most of the budget, the
//! document was idle long enough for caches to go cold, an older analysis still runs, a burst:
//! [`State::moves_at_once`]), the change's handler moves the last analysis to the new text and publishes it at
//! once, before reparsing. Otherwise every applied change arms a timer ([`EDIT_BUDGET`], [`BudgetTimers`]): if
//! the document's analysis has not caught up with the current text when it fires, the last analysis is moved
//! to the current text and published. Either way it is a *provisional* result for the current version:
//! findings wholly outside the changed region keep their place (shifted by the edit), findings that touch it
//! are left out until the analysis finishes. The analysis goes on in the background; its result replaces the
//! provisional one and is published in turn. A provisional result is always a consistent version: it is the
//! analysis of an older text with every range mapped into the current one, never a mix of versions.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

use dsr_core::finding::Finding;
use dsr_core::suppression::Suppression;
use dsr_syntax::TextRange;
use ropey::Rope;

use super::{Analyzed, Doc, Publish, State};
use crate::convert::{self, DiagnosticContext};
use crate::sync::lock;
use crate::timeline;

/// How long after a change the editor may wait for that version's diagnostics, by default: below the 5 ms
/// keystroke target with room for transport and publishing.
pub const EDIT_BUDGET: Duration = Duration::from_millis(3);

/// The edit budget: [`EDIT_BUDGET`], or `DISTSYS_REVIEW_EDIT_BUDGET_MS` (`0` turns provisional results off; the
/// integration tests do, since they check each version's final diagnostics).
fn edit_budget() -> Option<Duration> {
    static BUDGET: OnceLock<Option<Duration>> = OnceLock::new();
    *BUDGET.get_or_init(|| {
        match std::env::var("DISTSYS_REVIEW_EDIT_BUDGET_MS") {
            Ok(value) => match value.trim().parse::<u64>() {
                Ok(0) => None,
                Ok(ms) => Some(Duration::from_millis(ms)),
                Err(_) => {
                    tracing::warn!(
                        "DISTSYS_REVIEW_EDIT_BUDGET_MS={value:?} is not a number of milliseconds; using {} ms",
                        EDIT_BUDGET.as_millis()
                    );
                    Some(EDIT_BUDGET)
                }
            },
            Err(_) => Some(EDIT_BUDGET),
        }
    })
}

/// The bytes that differ between two texts: `start`, and where the differing run ends in the old and the new
/// text. Several edits since the last analysis count as one region spanning them all.
struct ChangedRegion {
    start: usize,
    old_end: usize,
    new_end: usize,
}

/// Compares the ropes a run of bytes at a time: the new text is the old one edited, so all but the chunks
/// around the edits are the same allocation and compare by address; the others by `memcmp`. Per edit it costs
/// a few steps per chunk of the file, not per byte (comparing byte by byte took milliseconds on a 400 KB file).
fn changed_region(old: &Rope, new: &Rope) -> ChangedRegion {
    let (old_len, new_len) = (old.len_bytes(), new.len_bytes());
    let shortest = old_len.min(new_len);
    // Common prefix.
    let mut prefix = 0;
    while prefix < shortest {
        let (a, b) = (tail_from(old, prefix), tail_from(new, prefix));
        let n = a.len().min(b.len()).min(shortest - prefix);
        let (a, b) = (&a[..n], &b[..n]);
        match first_difference(a, b, false) {
            Some(at) => {
                prefix += at;
                break;
            }
            None => prefix += n,
        }
    }
    // Common suffix, within what the prefix left.
    let most = shortest - prefix;
    let mut suffix = 0;
    while suffix < most {
        let (a, b) = (
            head_until(old, old_len - suffix),
            head_until(new, new_len - suffix),
        );
        let n = a.len().min(b.len()).min(most - suffix);
        let (a, b) = (&a[a.len() - n..], &b[b.len() - n..]);
        match first_difference(a, b, true) {
            Some(at) => {
                suffix += at;
                break;
            }
            None => suffix += n,
        }
    }
    ChangedRegion {
        start: prefix,
        old_end: old_len - suffix,
        new_end: new_len - suffix,
    }
}

/// The bytes of `rope`'s chunk holding `offset`, from `offset` on.
fn tail_from(rope: &Rope, offset: usize) -> &[u8] {
    let (chunk, start, _, _) = rope.chunk_at_byte(offset);
    &chunk.as_bytes()[offset - start..]
}

/// The bytes of `rope`'s chunk holding the byte before `end`, up to `end`.
fn head_until(rope: &Rope, end: usize) -> &[u8] {
    let (chunk, start, _, _) = rope.chunk_at_byte(end - 1);
    &chunk.as_bytes()[..end - start]
}

/// How many bytes two equally long runs share before they differ, counted from their start or, `from_end`,
/// from their end; `None` when they are equal (at once when they are the same memory).
fn first_difference(a: &[u8], b: &[u8], from_end: bool) -> Option<usize> {
    if a.as_ptr() == b.as_ptr() || a == b {
        return None;
    }
    if from_end {
        a.iter().rev().zip(b.iter().rev()).position(|(x, y)| x != y)
    } else {
        a.iter().zip(b).position(|(x, y)| x != y)
    }
}

impl ChangedRegion {
    /// `range` in the new text, or `None` if it touches the changed bytes.
    fn moved(&self, range: TextRange) -> Option<TextRange> {
        // A range that merely touches the region is dropped too: typing at either end of a name changes it.
        if range.end < self.start {
            Some(range)
        } else if range.start > self.old_end {
            let shift = |offset: usize| offset - self.old_end + self.new_end;
            Some(TextRange::new(shift(range.start), shift(range.end)))
        } else {
            None
        }
    }

    fn moved_finding(&self, finding: &Finding) -> Option<Finding> {
        let mut moved = finding.clone();
        moved.range = self.moved(finding.range)?;
        for evidence in moved.evidence.iter_mut().filter(|e| e.path.is_none()) {
            evidence.range = self.moved(evidence.range)?;
        }
        for edit in moved.fix.iter_mut().flat_map(|fix| fix.edits.iter_mut()) {
            edit.range = self.moved(edit.range)?;
        }
        Some(moved)
    }

    fn moved_suppression(&self, suppression: &Suppression) -> Option<Suppression> {
        let mut moved = suppression.clone();
        moved.comment = self.moved(suppression.comment)?;
        moved.directive = self.moved(suppression.directive)?;
        Some(moved)
    }
}

/// `previous` moved to the text of `rope` (version `version`, change counter `seq`).
pub(super) fn provisional(
    previous: &Analyzed,
    rope: Rope,
    seq: u64,
    version: i32,
    state: &State,
) -> Analyzed {
    let region = changed_region(&previous.rope, &rope);
    let session = state.session();
    let cx = DiagnosticContext {
        uri: &previous.uri,
        rope: &rope,
        version,
        encoding: session.encoding,
        settings: &session.settings,
    };
    // One diagnostic per finding, in order; otherwise (a skipped file's one hint) they are kept as they are.
    let paired = previous.diagnostics.len() == previous.findings.len();
    let mut findings = Vec::with_capacity(previous.findings.len());
    let mut diagnostics = Vec::with_capacity(previous.diagnostics.len());
    for (index, finding) in previous.findings.iter().enumerate() {
        let Some(moved) = region.moved_finding(finding) else {
            continue;
        };
        if paired {
            diagnostics.push(convert::moved_diagnostic(
                &previous.diagnostics[index],
                &moved,
                &cx,
            ));
        }
        findings.push(moved);
    }
    if !paired {
        diagnostics.clone_from(&previous.diagnostics);
    }
    Analyzed {
        seq,
        version,
        language: previous.language,
        uri: previous.uri.clone(),
        path: previous.path.clone(),
        analysed_as: previous.analysed_as.clone(),
        rope,
        findings,
        suppressions: previous
            .suppressions
            .iter()
            .filter_map(|s| region.moved_suppression(s))
            .collect(),
        diagnostics,
        encoding: session.encoding,
        engine: previous.engine.clone(),
        index_generation: previous.index_generation,
        failures: Vec::new(),
        whole_file: false,
        provisional: true,
    }
}

impl State {
    /// Whether a change to `doc` should have the last analysis moved to the new text and published at once, in
    /// the change's handler before the reparse ([`State::change`]), rather than when the budget runs out: when
    /// its analysis is predicted late. Waiting for the budget to run out then only delays the first
    /// diagnostics, by the budget and by the timer's thread and the publication after it.
    ///
    /// Predicted late: from the document's recent costs and idle time ([`predicted_late`]); or while an
    /// analysis of an older version still runs, or edits come in a burst (the next analysis waits for the
    /// running one to stop, or for the burst to pause, [`super::burst_window`], up to 5 ms). Not
    /// when more changes were already read (`more_coming`): the next one's publication would replace this one,
    /// and a burst of thousands of changes (a formatter, a paste) must not build a moved analysis for each.
    pub(super) fn moves_at_once(&self, doc: &Doc, more_coming: bool) -> bool {
        let Some(budget) = edit_budget() else {
            return false;
        };
        !doc.desynced
            && !more_coming
            && doc.analyzed.is_some()
            && (doc.analysis_running
                || doc.in_burst
                || predicted_late(
                    &doc.recent_costs,
                    doc.last_change.map(|at| at.elapsed()),
                    budget,
                ))
    }

    /// Called after a change is applied (unless [`State::moves_at_once`]): unless a timer is already armed for
    /// the document, publishes the moved previous analysis if the current version's analysis is not stored
    /// within [`EDIT_BUDGET`] ([`BudgetTimers`]).
    pub(super) fn arm_edit_budget(&self, doc: &Arc<Mutex<Doc>>) {
        let Some(budget) = edit_budget() else { return };
        {
            let mut d = lock(doc);
            if d.budget_armed {
                timeline::mark("already-armed", d.document.version());
                return;
            }
            d.budget_armed = true;
            timeline::mark("armed", d.document.version());
        }
        self.budget_timers.arm(Instant::now() + budget, doc.clone());
    }

    /// The budget's timers of the server `state` (a weak reference: the timers' thread must not keep the
    /// server alive), which publish the moved analysis of each document whose budget ran out.
    pub(super) fn budget_timers(state: Weak<State>) -> Arc<BudgetTimers<Arc<Mutex<Doc>>>> {
        BudgetTimers::start(move |late: Vec<Arc<Mutex<Doc>>>| {
            let Some(state) = state.upgrade() else {
                return false;
            };
            for doc in late {
                state.budget_ran_out(&doc);
            }
            true
        })
    }

    /// The budget ran out for `doc`: publishes its moved analysis unless its current version's is stored.
    fn budget_ran_out(&self, doc: &Mutex<Doc>) {
        let version = {
            let mut d = lock(doc);
            d.budget_armed = false;
            d.document.version()
        };
        timeline::mark("timer-fired", version);
        self.publish_provisional(doc);
    }

    /// Publishes the document's last analysis moved to its current text, unless the current version's analysis
    /// is already stored. Costs the findings, not the file: the changed region is found a rope chunk at a time,
    /// and each kept diagnostic is the previous one with its positions moved.
    fn publish_provisional(&self, doc: &Mutex<Doc>) {
        let behind = {
            let d = lock(doc);
            let caught_up = d.analyzed.as_ref().is_some_and(|a| a.seq == d.seq);
            match &d.analyzed {
                Some(previous) if !caught_up && !d.desynced => Some((
                    previous.clone(),
                    d.document.rope().clone(),
                    d.seq,
                    d.document.version(),
                )),
                _ => None,
            }
        };
        let Some((previous, rope, seq, version)) = behind else {
            return;
        };
        timeline::mark("provisional-start", version);
        let moved = Arc::new(provisional(&previous, rope, seq, version, self));
        timeline::mark("provisional-built", version);
        let stored = {
            let mut d = lock(doc);
            let caught_up = d.analyzed.as_ref().is_some_and(|a| a.seq == d.seq);
            if d.seq == seq && !caught_up && !d.desynced {
                d.analyzed = Some(moved);
                true
            } else {
                false
            }
        };
        if stored {
            self.provisionals.fetch_add(1, Ordering::Relaxed);
            self.publish(Publish::Document(previous.uri.clone()));
        }
    }
}

/// Whether an edit's analysis is predicted to overrun `budget`, from the document's recent analyses' costs
/// (newest last) and how long it was idle before the edit ([`State::moves_at_once`]).
///
/// Late when the predicted cost ([`predicted_cost`]: the dearest of the last few analyses) is more than
/// [`AT_ONCE_ABOVE`] of the budget: the handler, the analysis thread's wake-up and the publication add the
/// rest. Or after a pause of
/// [`super::CONFIRM_AFTER`]: the confirming pass or a reindex may have run meanwhile (a relink makes the next
/// analysis read the whole file), and the caches and the CPU's clock are cold.
fn predicted_late(recent_costs: &[Duration], idle: Option<Duration>, budget: Duration) -> bool {
    let predicted = predicted_cost(recent_costs);
    predicted * AT_ONCE_ABOVE.1 > budget * AT_ONCE_ABOVE.0
        || idle.is_some_and(|idle| idle >= super::CONFIRM_AFTER)
}

/// What the next analysis of a document is predicted to cost, from its recent analyses' costs: the dearest of
/// the last few ([`super::RECENT_COSTS`]; zero when there are none). Not the last alone: typing and deleting a
/// letter alternate between an analysis and a text whose result is kept (nearly free), and the last cost alone
/// called every typed letter cheap.
pub(super) fn predicted_cost(recent_costs: &[Duration]) -> Duration {
    recent_costs.iter().max().copied().unwrap_or_default()
}

/// The fraction of the budget (numerator, denominator) one of a document's recent analyses must have taken
/// for the next edit's moved analysis to be published at once ([`predicted_late`]).
const AT_ONCE_ABOVE: (u32, u32) = (2, 3);

/// The edit budget's timers: one thread of the server's own that sleeps until the earliest deadline and then
/// hands the items whose deadline passed to `fire` (the server's: move and publish the late documents'
/// analyses, on this thread).
///
/// tokio's timer (the first design) rounds a deadline up to its next millisecond tick and fires from the
/// runtime's driver, and the moved analysis was then built on a blocking thread spawned for it: 3 ms became
/// 3.0–4.x ms plus two thread hand-offs before the publication was even queued. A condition variable's timed
/// wait ends within tens of microseconds of its deadline, and this thread (at the message path's priority,
/// not the analyses') builds the moved analysis at once. Building it may read other files (evidence in
/// another file, see `convert::moved_diagnostic`), which is why it is not done on tokio's workers.
pub(super) struct BudgetTimers<T> {
    due: Mutex<Vec<(Instant, T)>>,
    wake: Condvar,
}

/// How often an idle timer thread asks `fire` whether its owner is still there (tests serve many servers in
/// one process).
const IDLE_CHECK: Duration = Duration::from_secs(1);

impl<T: Send + 'static> BudgetTimers<T> {
    /// Starts the timers' thread. `fire` gets the items whose deadline passed (none on an idle check) and
    /// returns `false` once its owner is gone, which ends the thread. Call it from a thread of the message
    /// path: the timers' thread inherits its priority.
    pub(super) fn start(fire: impl FnMut(Vec<T>) -> bool + Send + 'static) -> Arc<Self> {
        let timers = Arc::new(Self {
            due: Mutex::new(Vec::new()),
            wake: Condvar::new(),
        });
        let running = timers.clone();
        let spawned = std::thread::Builder::new()
            .name("dsr-budget".into())
            .spawn(move || running.run(fire));
        if let Err(err) = spawned {
            tracing::error!("no edit budget timer thread, so no provisional diagnostics: {err}");
        }
        timers
    }

    /// Hands `item` to `fire` at `deadline` (or as soon after as the thread runs).
    pub(super) fn arm(&self, deadline: Instant, item: T) {
        lock(&self.due).push((deadline, item));
        self.wake.notify_one();
    }

    fn run(&self, mut fire: impl FnMut(Vec<T>) -> bool) {
        crate::pools::message_path_thread();
        let mut due = lock(&self.due);
        loop {
            let now = Instant::now();
            let mut expired = Vec::new();
            let mut index = 0;
            while index < due.len() {
                if due[index].0 <= now {
                    expired.push(due.swap_remove(index).1);
                } else {
                    index += 1;
                }
            }
            if !expired.is_empty() {
                drop(due);
                if !fire(expired) {
                    return;
                }
                due = lock(&self.due);
                continue;
            }
            match due.iter().map(|(deadline, _)| *deadline).min() {
                Some(earliest) => {
                    due = self
                        .wake
                        .wait_timeout(due, earliest.saturating_duration_since(now))
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                None => {
                    let (guard, waited) = self
                        .wake
                        .wait_timeout(due, IDLE_CHECK)
                        .unwrap_or_else(PoisonError::into_inner);
                    due = guard;
                    // Idle: is the owner still there? (Not before a first wait: the server is still being
                    // made when the thread starts.)
                    if waited.timed_out() && due.is_empty() {
                        drop(due);
                        if !fire(Vec::new()) {
                            return;
                        }
                        due = lock(&self.due);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(old: &str, new: &str) -> ChangedRegion {
        changed_region(&Rope::from_str(old), &Rope::from_str(new))
    }

    /// Each item fires once, never before its deadline, and an item armed while the thread waits for a later
    /// deadline is not held up by it. The thread ends once `fire` says its owner is gone.
    #[test]
    fn timers_fire_each_item_once_and_never_before_its_deadline() {
        let (fired, heard) = std::sync::mpsc::channel();
        let timers = BudgetTimers::start(move |items: Vec<(u32, Instant)>| {
            items.into_iter().all(|(item, deadline)| {
                assert!(Instant::now() >= deadline, "item {item} fired early");
                fired.send(item).is_ok() && item != 0
            })
        });
        let now = Instant::now();
        let later = now + Duration::from_secs(3600);
        timers.arm(later, (9, later));
        for (item, after) in [(3, 30), (1, 10), (2, 20)] {
            let deadline = now + Duration::from_millis(after);
            timers.arm(deadline, (item, deadline));
        }
        let order: Vec<u32> = (0..3).map(|_| heard.recv().expect("fired")).collect();
        assert_eq!(order, [1, 2, 3]);
        let now = Instant::now();
        timers.arm(now, (0, now));
        assert_eq!(heard.recv().expect("fired"), 0);
        // The thread ended (fire said so) and dropped the sender it held.
        assert!(heard.recv().is_err());
    }

    #[test]
    fn an_edit_is_predicted_late_after_a_costly_analysis_among_the_last_few_or_a_pause() {
        let ms = Duration::from_millis;
        let budget = ms(3);
        assert!(!predicted_late(&[], None, budget));
        assert!(!predicted_late(&[ms(1), ms(1)], Some(ms(5)), budget));
        // Typing then deleting a letter: the deletion's text was analysed before (nearly free), the typed
        // letter's is not.
        assert!(predicted_late(
            &[ms(4), Duration::ZERO],
            Some(ms(5)),
            budget
        ));
        assert!(predicted_late(&[ms(1), ms(2) + ms(1) / 10], None, budget));
        // A pause long enough for the confirming pass or a reindex to run.
        assert!(predicted_late(
            &[ms(1)],
            Some(crate::state::CONFIRM_AFTER),
            budget
        ));
    }

    #[test]
    fn the_changed_region_spans_the_differing_bytes() {
        let r = region("let a = 1;\nlet b = 2;\n", "let a = 1;\nlet bx = 2;\n");
        assert_eq!((r.start, r.old_end, r.new_end), (16, 16, 17));
        let r = region("abc", "abc");
        assert_eq!((r.start, r.old_end, r.new_end), (3, 3, 3));
        let r = region("aaaa", "aa");
        assert_eq!((r.start, r.old_end, r.new_end), (2, 4, 2));
        let r = region("", "ab");
        assert_eq!((r.start, r.old_end, r.new_end), (0, 0, 2));
    }

    /// Ropes of many chunks, edited as the server edits them, against the byte-by-byte definition.
    #[test]
    fn the_changed_region_of_edited_ropes_is_the_bytewise_one() {
        let text: String = (0..4000).map(|i| format!("line {i} é\n")).collect();
        let old = Rope::from_str(&text);
        let bytewise = |old: &str, new: &str| {
            let prefix = old
                .bytes()
                .zip(new.bytes())
                .take_while(|(a, b)| a == b)
                .count();
            let most = old.len().min(new.len()) - prefix;
            let suffix = old
                .bytes()
                .rev()
                .zip(new.bytes().rev())
                .take(most)
                .take_while(|(a, b)| a == b)
                .count();
            (prefix, old.len() - suffix, new.len() - suffix)
        };
        for (at, removed, inserted) in [
            (0, 0, "x"),
            (17, 3, ""),
            (30_000, 0, "line 9 é\nline 1"),
            (text.chars().count() - 1, 1, "zz"),
            (5, 20_000, "y"),
        ] {
            let mut new = old.clone();
            new.remove(at..at + removed);
            new.insert(at, inserted);
            let r = changed_region(&old, &new);
            assert_eq!(
                (r.start, r.old_end, r.new_end),
                bytewise(&text, &new.to_string()),
                "{at} {removed} {inserted:?}"
            );
        }
    }

    #[test]
    fn ranges_before_the_edit_stay_after_it_shift_and_on_it_go() {
        let r = region("0123456789", "01234xx56789");
        assert_eq!(r.moved(TextRange::new(0, 3)), Some(TextRange::new(0, 3)));
        assert_eq!(r.moved(TextRange::new(6, 8)), Some(TextRange::new(8, 10)));
        assert_eq!(r.moved(TextRange::new(4, 6)), None);
        // Touching the insertion point from either side: the edit may have extended a name.
        assert_eq!(r.moved(TextRange::new(3, 5)), None);
        assert_eq!(r.moved(TextRange::new(5, 7)), None);
        assert_eq!(r.moved(TextRange::new(0, 4)), Some(TextRange::new(0, 4)));
    }
}
