//! A small in-memory rate limiter per client address (R-CRT-2: the public certificate
//! verification). GCRA (a token bucket in one timestamp per key): `burst` requests at once, then
//! one every `60 / per_minute` seconds. One process's memory: several servers each count on
//! their own, which bounds guessing per server (enough against enumeration at this scale).
//! Behind a reverse proxy every request has the proxy's address; run the proxy's own limit then.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most addresses remembered; past this, addresses whose bucket is full again are forgotten.
const MAX_KEYS: usize = 50_000;

#[derive(Debug)]
pub struct RateLimiter {
    /// Time between two requests at the sustained rate.
    interval: Duration,
    /// How far ahead of now the theoretical arrival time may run (burst − 1 intervals).
    tolerance: Duration,
    tat: Mutex<HashMap<String, Instant>>,
}

impl RateLimiter {
    /// `burst` requests at once, `per_minute` sustained (both at least 1).
    pub fn new(burst: u32, per_minute: u32) -> RateLimiter {
        let interval = Duration::from_secs(60) / per_minute.max(1);
        RateLimiter {
            interval,
            tolerance: interval * (burst.max(1) - 1),
            tat: Mutex::new(HashMap::new()),
        }
    }

    /// Take one request for `key` at `now`: `Ok(())`, or `Err(wait)` until the next is allowed.
    pub fn check_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut map = self.tat.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_KEYS && !map.contains_key(key) {
            map.retain(|_, t| *t > now);
            if map.len() >= MAX_KEYS {
                // Still full of active addresses: refuse newcomers briefly rather than grow.
                return Err(self.interval);
            }
        }
        let tat = map.get(key).copied().unwrap_or(now).max(now);
        let ahead = tat - now;
        if ahead > self.tolerance {
            return Err(ahead - self.tolerance);
        }
        map.insert(key.to_string(), tat + self.interval);
        Ok(())
    }

    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }
}

/// Whole seconds for a `Retry-After` header (at least 1).
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0 || wait.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_crt_2_burst_then_sustained_rate_per_address() {
        let l = RateLimiter::new(3, 60); // 3 at once, then 1 a second
        let t = Instant::now();
        for _ in 0..3 {
            assert!(l.check_at("1.2.3.4", t).is_ok());
        }
        let wait = l.check_at("1.2.3.4", t).unwrap_err();
        assert!(wait <= Duration::from_secs(1) && wait > Duration::ZERO);
        assert_eq!(retry_after_secs(wait), 1);
        // Another address has its own bucket.
        assert!(l.check_at("5.6.7.8", t).is_ok());
        // A second later one more is allowed, then refused again.
        let t1 = t + Duration::from_secs(1);
        assert!(l.check_at("1.2.3.4", t1).is_ok());
        assert!(l.check_at("1.2.3.4", t1).is_err());
        // After a quiet minute the burst is back.
        let t2 = t + Duration::from_secs(61);
        for _ in 0..3 {
            assert!(l.check_at("1.2.3.4", t2).is_ok());
        }
    }
}
