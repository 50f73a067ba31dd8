//! S11: the anchored head of the audit chain. Deleting the last rows (trigger dropped, on a copy)
//! passes the hash chain but not the anchor; an edited anchor fails its signature.

use chrono::{TimeZone, Utc};
use peixun_store::audit::{self};
use peixun_store::audit_anchor::{AnchorCheck, AnchorKey, check_anchor, write_anchor};
use peixun_store::{Actor, Store};
use sea_orm::ConnectionTrait;

async fn rows(store: &Store, n: usize) {
    let now = Utc.with_ymd_and_hms(2026, 12, 3, 2, 0, 0).unwrap();
    for i in 0..n {
        audit::record(
            store,
            &Actor::system("test"),
            "test.event",
            "thing",
            Some(i.to_string()),
            serde_json::json!({ "i": i }),
            now,
        )
        .await
        .unwrap();
    }
}

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("peixun-anchor-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[tokio::test]
async fn s11_deleting_the_last_rows_is_detected_by_the_anchor() {
    let (store, _g) = peixun_store::testing::sqlite_temp().await;
    let data = dir("tail");
    let key = AnchorKey::new([7u8; 32]);
    rows(&store, 6).await;
    let a = write_anchor(&store, &data, &key, Utc::now()).await.unwrap();
    assert!(a.rows >= 6);
    assert!(matches!(
        check_anchor(&store, &data, &key).await.unwrap(),
        AnchorCheck::Holds(_)
    ));
    // The anchor file is the service account's alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::metadata(data.join("audit.anchor")).unwrap();
        assert_eq!(m.permissions().mode() & 0o777, 0o600);
    }
    // More rows later: still holds.
    rows(&store, 2).await;
    assert!(matches!(
        check_anchor(&store, &data, &key).await.unwrap(),
        AnchorCheck::Holds(_)
    ));
    // An attacker with the database drops the trigger and cuts the last 3 rows off.
    let db = store.write_db();
    db.execute_unprepared("DROP TRIGGER audit_log_no_delete")
        .await
        .unwrap();
    db.execute_unprepared(
        "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log ORDER BY id DESC LIMIT 3)",
    )
    .await
    .unwrap();
    // The chain alone still verifies (that is why the anchor exists)…
    assert!(audit::verify(&store).await.unwrap().is_ok());
    // …the anchor does not.
    match check_anchor(&store, &data, &key).await.unwrap() {
        AnchorCheck::Broken { reason } => assert!(reason.contains("已不存在"), "{reason}"),
        other => panic!("tail deletion not detected: {other:?}"),
    }
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test]
async fn s11_an_edited_anchor_or_another_key_fails_the_signature() {
    let (store, _g) = peixun_store::testing::sqlite_temp().await;
    let data = dir("sig");
    let key = AnchorKey::new([9u8; 32]);
    rows(&store, 3).await;
    write_anchor(&store, &data, &key, Utc::now()).await.unwrap();
    // Another key: refused.
    assert!(matches!(
        check_anchor(&store, &data, &AnchorKey::new([1u8; 32]))
            .await
            .unwrap(),
        AnchorCheck::Broken { .. }
    ));
    // Moving the anchor back (fewer rows) without the key: refused.
    let path = data.join("audit.anchor");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["rows"] = serde_json::json!(1);
    std::fs::write(&path, v.to_string()).unwrap();
    match check_anchor(&store, &data, &key).await.unwrap() {
        AnchorCheck::Broken { reason } => assert!(reason.contains("签名"), "{reason}"),
        other => panic!("edited anchor accepted: {other:?}"),
    }
    // No anchor at all: reported as missing, not as broken.
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        check_anchor(&store, &data, &key).await.unwrap(),
        AnchorCheck::Missing
    );
    let _ = std::fs::remove_dir_all(&data);
}
