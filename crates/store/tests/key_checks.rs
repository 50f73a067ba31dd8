//! Several servers on one database hold the same keys (SECURITY.md S14, issue 12 item 5), on
//! SQLite and PostgreSQL: the first server records a check value per key, every later one whose
//! lookup key or data key differs is refused with `ROSTER_KEY_MISMATCH` / `DATA_KEY_MISMATCH`
//! (servers starting together agree on one), a wrong lookup key on a database that already holds
//! trainees is caught before anything is recorded, and a finished key rotation moves the record.

#[allow(unused_macros, unused_imports)]
mod support;

use peixun_domain::workflow::round::Half;
use peixun_store::key_checks::{self, KeyCheckReport, verify_deployment_keys};
use peixun_store::pii::{DataKeys, Keys, RosterKey};
use peixun_store::testing::TestDbGuard;
use peixun_store::{Store, StoreError};
use sea_orm::{EntityTrait, PaginatorTrait};
use support::packages::*;
use support::*;

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let (store, guard) = peixun_store::testing::sqlite_temp().await;
                    super::$name(store, guard).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let (store, guard) = peixun_store::testing::postgres_fresh().await;
                    super::$name(store, guard).await;
                }
            )*
        }
    };
}

both!(
    s14_a_second_server_with_another_key_is_refused,
    s14_servers_starting_together_agree_on_one_key,
    s14_a_wrong_lookup_key_on_a_database_with_trainees_is_refused,
);

fn keys(roster: u8, data: u8) -> Keys {
    Keys::new(RosterKey::new([roster; 32]), DataKeys::new([data; 32]))
}

fn code(e: StoreError) -> (&'static str, String) {
    match e {
        StoreError::Conflict { code, message, .. } => (code, message),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn s14_a_second_server_with_another_key_is_refused(store: Store, _g: TestDbGuard) {
    let first = keys(1, 2);
    assert_eq!(
        verify_deployment_keys(&store, &first, "srv-1:1", t0())
            .await
            .unwrap(),
        KeyCheckReport {
            recorded_roster: true,
            recorded_data: true
        }
    );
    // The same keys on a second server: accepted, nothing new recorded.
    assert_eq!(
        verify_deployment_keys(&store, &first, "srv-2:1", t0())
            .await
            .unwrap(),
        KeyCheckReport {
            recorded_roster: false,
            recorded_data: false
        }
    );
    // Another lookup key (its own roster.key in its own data folder): refused, naming both.
    let (c, message) = code(
        verify_deployment_keys(&store, &keys(3, 2), "srv-2:2", t0())
            .await
            .unwrap_err(),
    );
    assert_eq!(c, "ROSTER_KEY_MISMATCH");
    let ours = RosterKey::new([3; 32]).check_value();
    let recorded = RosterKey::new([1; 32]).check_value();
    assert!(
        message.contains(&ours) && message.contains(&recorded),
        "{message}"
    );
    assert!(message.contains("PEIXUN_ROSTER_KEY"), "{message}");
    // Another data key: refused, naming both key ids.
    let (c, message) = code(
        verify_deployment_keys(&store, &keys(1, 4), "srv-2:3", t0())
            .await
            .unwrap_err(),
    );
    assert_eq!(c, "DATA_KEY_MISMATCH");
    let theirs = DataKeys::new([4; 32]);
    assert!(
        message.contains(theirs.current_id())
            && message.contains(DataKeys::new([2; 32]).current_id()),
        "{message}"
    );
    // During a rotation (new key current, the recorded one as the old key): accepted.
    let rotating = Keys::new(
        RosterKey::new([1; 32]),
        DataKeys::new([5; 32]).with_old([2; 32]),
    );
    verify_deployment_keys(&store, &rotating, "srv-3:1", t0())
        .await
        .unwrap();
    // The rotation finished: only the new key is accepted from now on.
    key_checks::record_data_key(&store, &DataKeys::new([5; 32]), "rotate", t0())
        .await
        .unwrap();
    assert_eq!(
        code(
            verify_deployment_keys(&store, &first, "srv-1:2", t0())
                .await
                .unwrap_err()
        )
        .0,
        "DATA_KEY_MISMATCH"
    );
    verify_deployment_keys(&store, &keys(1, 5), "srv-1:3", t0())
        .await
        .unwrap();
}

async fn s14_servers_starting_together_agree_on_one_key(store: Store, _g: TestDbGuard) {
    // Eight servers start at once on a new database, four with each of two lookup keys.
    let mut tasks = Vec::new();
    for i in 0..8u8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let k = keys(10 + i % 2, 2);
            (
                i % 2,
                verify_deployment_keys(&store, &k, &format!("srv-{i}:1"), t0()).await,
            )
        }));
    }
    let mut ok = [0, 0];
    let mut refused = [0, 0];
    for t in tasks {
        let (group, r) = t.await.unwrap();
        match r {
            Ok(_) => ok[group as usize] += 1,
            Err(e) => {
                assert_eq!(code(e).0, "ROSTER_KEY_MISMATCH");
                refused[group as usize] += 1;
            }
        }
    }
    // One key won; all four of its servers start, all four of the other are refused.
    assert!(
        (ok == [4, 0] && refused == [0, 4]) || (ok == [0, 4] && refused == [4, 0]),
        "ok {ok:?}, refused {refused:?}"
    );
    assert_eq!(
        key_checks::key_check::Entity::find()
            .count(store.db())
            .await
            .unwrap(),
        2
    );
}

async fn s14_a_wrong_lookup_key_on_a_database_with_trainees_is_refused(
    store: Store,
    _g: TestDbGuard,
) {
    // A database whose rosters were keyed with `key()` (e.g. restored from a backup) and nothing
    // recorded yet (written before the check existed).
    let (fs, _dir) = files();
    let r = published_round(&store, 2026, Half::H1, "2026上", 5).await;
    let fx = fixture(&store, 1, r.id, 3).await;
    full_package(&store, &fs, &fx, 42).await;
    let data = store.keys().unwrap().data;
    let fresh = Keys {
        lookup: RosterKey::new([8; 32]),
        data: data.clone(),
    };
    let (c, message) = code(
        verify_deployment_keys(&store, &fresh, "srv-1:1", t0())
            .await
            .unwrap_err(),
    );
    assert_eq!(c, "ROSTER_KEY_MISMATCH", "{message}");
    // Nothing was recorded, so the right key still starts.
    assert_eq!(
        key_checks::key_check::Entity::find()
            .count(store.db())
            .await
            .unwrap(),
        0
    );
    let right = Keys {
        lookup: key(),
        data,
    };
    verify_deployment_keys(&store, &right, "srv-1:2", t0())
        .await
        .unwrap();
}
