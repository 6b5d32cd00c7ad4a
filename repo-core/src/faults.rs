//! Fault injection for repositories: [`Faulty`] wraps any implementation of a `#[port]` trait
//! (or of a generated repository trait) and makes chosen calls fail with a chosen
//! [`RepoError`], so application code can test its error paths (retries, conflict handling)
//! without a database that misbehaves on cue.

use std::sync::{Arc, Mutex, PoisonError};

use crate::RepoError;

type MakeError = Arc<dyn Fn() -> RepoError + Send + Sync>;

struct Rule {
    /// `None`: any method.
    method: Option<&'static str>,
    /// The calls that fail, counted from 1 among the calls this rule watches.
    calls: std::ops::RangeInclusive<u64>,
    seen: u64,
    error: MakeError,
}

#[derive(Default)]
struct State {
    calls: u64,
    log: Vec<&'static str>,
    rules: Vec<Rule>,
}

/// Which calls fail, with which error; shared by every clone, so a test keeps one to look at
/// the calls made.
#[derive(Clone, Default)]
pub struct Faults {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("Faults")
            .field("calls", &state.calls)
            .field("rules", &state.rules.len())
            .finish()
    }
}

impl Faults {
    /// No faults yet.
    pub fn new() -> Faults {
        Faults::default()
    }

    fn rule(
        self,
        method: Option<&'static str>,
        calls: std::ops::RangeInclusive<u64>,
        error: impl Fn() -> RepoError + Send + Sync + 'static,
    ) -> Faults {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .rules
            .push(Rule {
                method,
                calls,
                seen: 0,
                error: Arc::new(error),
            });
        self
    }

    /// The `n`-th call (from 1) of any method fails with `error()`.
    pub fn fail_call(
        self,
        n: u64,
        error: impl Fn() -> RepoError + Send + Sync + 'static,
    ) -> Faults {
        self.rule(None, n..=n, error)
    }

    /// The `n`-th call (from 1) of `method` fails with `error()`.
    pub fn fail_nth(
        self,
        method: &'static str,
        n: u64,
        error: impl Fn() -> RepoError + Send + Sync + 'static,
    ) -> Faults {
        self.rule(Some(method), n..=n, error)
    }

    /// The first `times` calls of `method` fail with `error()`, the later ones go through:
    /// a transient failure that a retry gets past.
    pub fn fail_first(
        self,
        method: &'static str,
        times: u64,
        error: impl Fn() -> RepoError + Send + Sync + 'static,
    ) -> Faults {
        self.rule(Some(method), 1..=times, error)
    }

    /// Every call of `method` fails with `error()`.
    pub fn fail_always(
        self,
        method: &'static str,
        error: impl Fn() -> RepoError + Send + Sync + 'static,
    ) -> Faults {
        self.rule(Some(method), 1..=u64::MAX, error)
    }

    /// How many calls were made, failed ones included.
    pub fn calls(&self) -> u64 {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .calls
    }

    /// The methods called, in order, failed ones included.
    pub fn log(&self) -> Vec<&'static str> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .log
            .clone()
    }

    /// Counts a call of `method`; the error of the first rule it falls under, if any.
    #[doc(hidden)]
    pub fn check(&self, method: &'static str) -> Result<(), RepoError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.calls += 1;
        state.log.push(method);
        let calls = state.calls;
        let mut failure = None;
        for rule in &mut state.rules {
            let count = match rule.method {
                None => calls,
                Some(name) if name == method => {
                    rule.seen += 1;
                    rule.seen
                }
                Some(_) => continue,
            };
            if failure.is_none() && rule.calls.contains(&count) {
                failure = Some(Arc::clone(&rule.error));
            }
        }
        drop(state);
        match failure {
            Some(error) => Err(error()),
            None => Ok(()),
        }
    }
}

/// A repository whose calls first pass through [`Faults`]: `Faulty::new(repository, faults)`
/// implements every `#[port]` trait (and generated repository trait) that `repository` does.
#[derive(Debug, Clone)]
pub struct Faulty<R> {
    inner: R,
    faults: Faults,
}

impl<R> Faulty<R> {
    /// `inner`, failing as `faults` says.
    pub fn new(inner: R, faults: Faults) -> Faulty<R> {
        Faulty { inner, faults }
    }

    /// The wrapped repository.
    pub fn inner(&self) -> &R {
        &self.inner
    }

    /// The faults in force.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeout() -> RepoError {
        RepoError::Timeout {
            entity: "User",
            source: None,
        }
    }

    #[test]
    fn rules_count_calls_per_method_or_overall() {
        let faults = Faults::new()
            .fail_call(2, timeout)
            .fail_first("insert", 1, || RepoError::not_found("User"));
        assert!(matches!(
            faults.check("insert"),
            Err(RepoError::NotFound { .. })
        ));
        assert!(matches!(
            faults.check("get"),
            Err(RepoError::Timeout { .. })
        ));
        assert!(faults.check("insert").is_ok());
        assert!(faults.check("get").is_ok());
        assert_eq!(faults.calls(), 4);
        assert_eq!(faults.log(), ["insert", "get", "insert", "get"]);
    }
}
