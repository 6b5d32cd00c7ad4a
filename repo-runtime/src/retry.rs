//! Retry of transient failures: the policy, its exponential backoff with jitter (backon), and
//! the loop shared by transactions and idempotent reads.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

use crate::error::RepoError;

/// How often, and how patiently, a transient failure is retried.
///
/// Only whole transactions and reads outside a transaction are retried; a single write outside
/// a transaction never is, and neither is a commit whose outcome is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 disables retries.
    pub max_attempts: u32,
    /// Delay before the first retry; it doubles after each, with jitter.
    pub min_delay: Duration,
    /// Longest delay between two attempts.
    pub max_delay: Duration,
    /// Longest total time spent waiting between attempts.
    pub max_total_delay: Duration,
}

impl Default for RetryPolicy {
    /// 5 attempts, 10 ms doubling to at most 1 s, at most 5 s of waiting in all.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            min_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(1),
            max_total_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// No retries: every failure is returned at once.
    pub const fn never() -> Self {
        RetryPolicy {
            max_attempts: 1,
            min_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
            max_total_delay: Duration::ZERO,
        }
    }

    /// The delays between attempts.
    fn delays(&self) -> impl Iterator<Item = Duration> + use<> {
        ExponentialBuilder::new()
            .with_jitter()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_attempts.saturating_sub(1) as usize)
            .with_total_delay(Some(self.max_total_delay))
            .build()
    }
}

/// Decides, after each failed attempt, whether to try again: only transient errors, within
/// the policy. Each retry is logged at `warn` and waits its backoff delay.
pub(crate) struct Retrier<D> {
    delays: D,
    attempt: u32,
    what: &'static str,
}

impl RetryPolicy {
    pub(crate) fn retrier(
        &self,
        what: &'static str,
    ) -> Retrier<impl Iterator<Item = Duration> + use<>> {
        Retrier {
            delays: self.delays(),
            attempt: 1,
            what,
        }
    }
}

impl<D: Iterator<Item = Duration>> Retrier<D> {
    /// Whether to try again after `error`; when it says yes, the delay has been waited.
    pub(crate) async fn retry_after(&mut self, error: &RepoError) -> bool {
        if !error.is_transient() {
            return false;
        }
        let Some(delay) = self.delays.next() else {
            return false;
        };
        tracing::warn!(
            attempt = self.attempt,
            kind = error.kind().as_str(),
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            "{} failed with a transient error; retrying",
            self.what
        );
        tokio::time::sleep(delay).await;
        self.attempt += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_bounds_attempts_and_delays() {
        let policy = RetryPolicy {
            max_attempts: 4,
            ..RetryPolicy::default()
        };
        let delays: Vec<Duration> = policy.delays().collect();
        assert_eq!(delays.len(), 3);
        assert!(
            delays.iter().all(|d| *d <= policy.max_delay * 2),
            "{delays:?}"
        );
        assert_eq!(RetryPolicy::never().delays().count(), 0);
    }

    #[tokio::test]
    async fn only_transient_failures_are_retried() {
        let policy = RetryPolicy {
            min_delay: Duration::from_millis(1),
            ..RetryPolicy::default()
        };
        let mut retrier = policy.retrier("test");
        assert!(retrier.retry_after(&RepoError::PoolTimeout).await);
        assert!(!retrier.retry_after(&RepoError::not_found("User")).await);
        let mut never = RetryPolicy::never().retrier("test");
        assert!(!never.retry_after(&RepoError::PoolTimeout).await);
        let mut bounded = RetryPolicy {
            max_attempts: 3,
            ..policy
        }
        .retrier("test");
        let mut retries = 0;
        while bounded.retry_after(&RepoError::PoolTimeout).await {
            retries += 1;
        }
        assert_eq!(retries, 2);
    }
}
