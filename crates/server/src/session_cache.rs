//! A short-lived cache of session checks (issue 12: being signed in should cost close to
//! nothing; SECURITY.md S3 still holds).
//!
//! Without it every request of a signed-in user reads the session, the account, its
//! institution's name and, for roles that need a second factor, the TOTP state — four or five
//! queries before the handler starts. The cache keeps that answer per token for at most
//! [`TTL`], and only while it is still exactly what the database would say:
//!
//! * **Every write in this process invalidates it.** Anything that can end a session or change
//!   an account (logout, password change or reset, deactivation, a role or institution change,
//!   TOTP enrolment, a confirmed credential request …) is an HTTP write (POST, PUT, PATCH,
//!   DELETE) whose transaction has committed when its handler returns; [`crate::auth::authenticate`]
//!   then bumps the cache's generation, and every entry read before the bump is ignored. An
//!   entry records the generation current *before* its database read started, so a read that
//!   raced a write is never trusted afterwards either.
//! * **Time is checked on every hit**: an entry is used only while the session has not expired
//!   by the request's clock (idle and absolute limits) and while its `last_seen_at` does not
//!   need the once-a-minute touch; otherwise the request goes to the database as before.
//! * **Other processes** (a second server on the same PostgreSQL, the `peixun` CLI) cannot bump
//!   this process's generation: what they change is seen here within [`TTL`] at the latest.
//!   That bound is the price of the cache; README "Running several servers" states it.
//!
//! The cache is bounded ([`MAX_ENTRIES`]; when full it is emptied, costing one database read per
//! active session).

use peixun_store::sessions::SessionInfo;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a cached session check may be used at most.
pub const TTL: Duration = Duration::from_secs(2);
/// Entries kept at most.
pub const MAX_ENTRIES: usize = 50_000;

/// A session check, as [`crate::auth::authenticate`] needs it.
#[derive(Debug, Clone)]
pub struct Checked {
    pub info: SessionInfo,
    pub totp_enrolment_required: bool,
}

struct Entry {
    checked: Checked,
    generation: u64,
    fetched: Instant,
}

#[derive(Default)]
pub struct SessionCache {
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Entry>>,
    /// `PEIXUN_SESSION_CACHE=off`: every request reads the database (to measure the cache, or
    /// to rule it out when investigating).
    disabled: bool,
}

impl SessionCache {
    /// On unless `PEIXUN_SESSION_CACHE=off`.
    pub fn from_env() -> Self {
        SessionCache {
            disabled: std::env::var("PEIXUN_SESSION_CACHE").is_ok_and(|v| v.trim() == "off"),
            ..Default::default()
        }
    }

    /// The generation to pass to [`SessionCache::put`]: read it *before* the database read.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Forget everything read so far (after a committed write).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The cached check of `token`, if it is still valid at `now` (the request's clock).
    pub fn get(&self, token: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Checked> {
        let generation = self.generation();
        let map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let e = map.get(token)?;
        let fresh = e.generation == generation
            && e.fetched.elapsed() < TTL
            && now < e.checked.info.expires_at
            && now - e.checked.info.last_seen_at <= peixun_store::sessions::TOUCH_INTERVAL;
        fresh.then(|| e.checked.clone())
    }

    /// Remember the check of `token` read at `generation`.
    pub fn put(&self, token: &str, generation: u64, checked: Checked) {
        if self.disabled || generation != self.generation() {
            return;
        }
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(
            token.to_string(),
            Entry {
                checked,
                generation,
                fetched: Instant::now(),
            },
        );
    }

    /// Drop one token's entry (an unknown or expired token).
    pub fn remove(&self, token: &str) {
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use peixun_domain::role::Role;
    use peixun_store::accounts::UserView;

    fn checked(now: chrono::DateTime<Utc>) -> Checked {
        Checked {
            info: SessionInfo {
                user: UserView {
                    id: 1,
                    username: "centre_admin".into(),
                    display_name: "中心管理员".into(),
                    role: Role::CentreAdmin,
                    institution_id: None,
                    institution_name: None,
                    active: true,
                    must_change_password: false,
                    locked_until: None,
                    last_login_at: None,
                },
                session_id: 7,
                csrf_token: "c".into(),
                created_at: now,
                last_seen_at: now,
                expires_at: now + peixun_store::sessions::IDLE_TIMEOUT,
            },
            totp_enrolment_required: false,
        }
    }

    #[test]
    fn s3_a_write_invalidates_what_was_read_before_it() {
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 2, 0, 0).unwrap();
        let c = SessionCache::default();
        let g = c.generation();
        c.put("t", g, checked(now));
        assert!(c.get("t", now).is_some());
        c.invalidate();
        assert!(c.get("t", now).is_none(), "an entry from before a write");
        // A read that started before a write and finished after it is not kept.
        let g = c.generation();
        c.invalidate();
        c.put("t", g, checked(now));
        assert!(c.get("t", now).is_none());
    }

    #[test]
    fn s3_an_expired_or_touch_due_session_goes_back_to_the_database() {
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 2, 0, 0).unwrap();
        let c = SessionCache::default();
        c.put("t", c.generation(), checked(now));
        assert!(
            c.get("t", now + chrono::Duration::seconds(60)).is_some(),
            "within the touch interval"
        );
        assert!(
            c.get("t", now + chrono::Duration::seconds(61)).is_none(),
            "last_seen_at needs its touch"
        );
        let mut short = checked(now);
        short.info.expires_at = now + chrono::Duration::seconds(10);
        c.put("u", c.generation(), short);
        assert!(c.get("u", now + chrono::Duration::seconds(10)).is_none());
        assert!(c.get("other", now).is_none());
    }
}
