//! S4: the TOTP second factor in the store, on both backends. Codes are computed here with
//! `totp-rs` from the secret the enrolment hands out, at injected times.

mod support;

use chrono::{DateTime, Duration, Utc};
use peixun_domain::role::Role;
use peixun_store::accounts::{self, NewUser, PasswordOutcome, UserView};
use peixun_store::totp::{self, TotpState, login};
use peixun_store::{Actor, Store, StoreError};
use sea_orm::{ConnectionTrait, Statement};
use support::{on_both_backends, t0};

const PW: &str = "Haizhu#Totp2026";

async fn user(store: &Store, username: &str, role: Role, inst: Option<i64>) -> UserView {
    accounts::create_user(
        store,
        &Actor::system("test"),
        NewUser {
            username: username.into(),
            display_name: username.into(),
            role,
            institution_id: inst,
            password: PW.into(),
            must_change_password: false,
        },
        t0(),
    )
    .await
    .unwrap()
}

fn me(u: &UserView) -> Actor {
    Actor::from_user(u, Some("10.0.0.9".into()), None)
}

/// The 6-digit code of `secret` (base32) at `t`, computed independently of the store.
fn code_at(secret: &str, t: DateTime<Utc>) -> String {
    let bytes = totp_rs::Secret::try_from_base32(secret)
        .unwrap()
        .as_bytes()
        .to_vec();
    totp_rs::Builder::new()
        .with_secret(bytes)
        .build()
        .unwrap()
        .generate(t.timestamp() as u64)
        .to_string()
}

/// Steps of 30 seconds after `t0()`.
fn step(n: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(30 * n)
}

fn code_of(e: &StoreError) -> &str {
    match e {
        StoreError::Validation { code, .. } | StoreError::Conflict { code, .. } => code,
        StoreError::Locked { .. } => "LOCKED",
        StoreError::Forbidden { .. } => "FORBIDDEN",
        _ => "OTHER",
    }
}

/// Enrol and confirm at `step(0)`: returns the secret and the recovery codes.
async fn enrol(store: &Store, u: &UserView) -> (String, Vec<String>) {
    let e = totp::begin_enrolment(store, &me(u), u.id, PW, None, step(0))
        .await
        .unwrap();
    let codes = totp::confirm(
        store,
        &me(u),
        u.id,
        &code_at(&e.secret_base32, step(0)),
        step(0),
    )
    .await
    .unwrap();
    (e.secret_base32, codes)
}

async fn actions(store: &Store, user_id: i64) -> Vec<String> {
    let backend = store.db().get_database_backend();
    store
        .db()
        .query_all_raw(Statement::from_string(
            backend,
            format!(
                "SELECT action FROM audit_log WHERE target_id = '{user_id}' AND target_type = 'user' ORDER BY id"
            ),
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "action").unwrap())
        .collect()
}

/// Log in with the password (must ask for the second factor) and answer with `code` at `at`.
async fn login_with(
    store: &Store,
    username: &str,
    code: &str,
    at: DateTime<Utc>,
) -> Result<UserView, StoreError> {
    let out = accounts::authenticate_password(store, username, PW, None, at).await?;
    let PasswordOutcome::SecondFactor(u) = out else {
        panic!("second factor expected, got {out:?}");
    };
    let challenge = login::start_challenge(store, u.id, at).await.unwrap();
    login::verify_login(store, &challenge, code, Some("10.0.0.9"), at).await
}

async fn s4_enrol_and_confirm(store: Store) {
    let u = user(&store, "centre1", Role::CentreAdmin, None).await;
    let s = totp::status(&store, u.id).await.unwrap();
    assert_eq!(s.state, TotpState::NotEnrolled);
    assert!(s.required && !s.exempt);
    assert!(totp::enrolment_required(&store, u.id).await.unwrap());

    // The password is asked again; someone else cannot enrol this account.
    let e = totp::begin_enrolment(&store, &me(&u), u.id, "Wrong#Password1", None, step(0))
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "PASSWORD_WRONG");
    let other = user(&store, "centre2", Role::CentreStaff, None).await;
    let e = totp::begin_enrolment(&store, &me(&other), u.id, PW, None, step(0))
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "FORBIDDEN");

    let e = totp::begin_enrolment(&store, &me(&u), u.id, PW, None, step(0))
        .await
        .unwrap();
    assert!(
        e.otpauth_url.starts_with("otpauth://totp/"),
        "{}",
        e.otpauth_url
    );
    assert!(
        e.otpauth_url
            .contains(&format!("secret={}", e.secret_base32))
    );
    assert!(e.otpauth_url.contains("issuer=peixun"), "{}", e.otpauth_url);
    assert_eq!(
        totp::status(&store, u.id).await.unwrap().state,
        TotpState::Pending
    );
    // Still gated while pending; the same secret is shown again.
    assert!(totp::enrolment_required(&store, u.id).await.unwrap());
    let again = totp::pending_enrolment(&store, &me(&u), u.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.secret_base32, e.secret_base32);

    // A wrong code changes nothing.
    let wrong = if code_at(&e.secret_base32, step(0)) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let err = totp::confirm(&store, &me(&u), u.id, wrong, step(0))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "TOTP_CODE_WRONG");
    assert!(
        matches!(&err, StoreError::Validation { field: Some(f), message, .. } if f == "code" && message.contains("验证码") && message.contains("S4"))
    );
    assert_eq!(
        totp::status(&store, u.id).await.unwrap().state,
        TotpState::Pending
    );

    let codes = totp::confirm(
        &store,
        &me(&u),
        u.id,
        &code_at(&e.secret_base32, step(0)),
        step(0),
    )
    .await
    .unwrap();
    assert_eq!(codes.len(), 10);
    assert!(codes.iter().all(|c| totp::looks_like_recovery_code(c)));
    let s = totp::status(&store, u.id).await.unwrap();
    assert_eq!(s.state, TotpState::Enabled);
    assert_eq!(s.recovery_codes_left, 10);
    assert_eq!(s.enabled_at, Some(step(0)));
    assert!(!totp::enrolment_required(&store, u.id).await.unwrap());

    // Password alone no longer logs in.
    let err = accounts::authenticate(&store, "centre1", PW, None, step(2))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "SECOND_FACTOR_REQUIRED");
    let a = actions(&store, u.id).await;
    for want in ["totp.enrol", "totp.enable", "auth.password_ok"] {
        assert!(a.iter().any(|x| x == want), "{want} in {a:?}");
    }
    assert!(!a.iter().any(|x| x == "auth.login"), "{a:?}");
}

async fn s4_login_wrong_and_replayed_codes(store: Store) {
    let u = user(&store, "bureau1", Role::Bureau, None).await;
    let (secret, _) = enrol(&store, &u).await;

    // The confirmation's code (step 0) cannot be used again to log in.
    let err = login_with(&store, "bureau1", &code_at(&secret, step(0)), step(0))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "AUTH_FAILED");

    let at = step(4);
    let good = code_at(&secret, at);
    let wrong = if good == "123456" { "654321" } else { "123456" };
    let err = login_with(&store, "bureau1", wrong, at).await.unwrap_err();
    assert_eq!(code_of(&err), "AUTH_FAILED");
    let v = login_with(&store, "bureau1", &good, at).await.unwrap();
    assert_eq!(v.id, u.id);
    assert_eq!(v.last_login_at, Some(at));
    // Replayed: the same code, a new challenge, the same step.
    let err = login_with(&store, "bureau1", &good, at + Duration::seconds(5))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "AUTH_FAILED");

    // A challenge is single use and expires after five minutes.
    let PasswordOutcome::SecondFactor(_) =
        accounts::authenticate_password(&store, "bureau1", PW, None, step(10))
            .await
            .unwrap()
    else {
        panic!("second factor")
    };
    let ch = login::start_challenge(&store, u.id, step(10))
        .await
        .unwrap();
    let late = step(10) + Duration::minutes(5) + Duration::seconds(1);
    let err = login::verify_login(&store, &ch, &code_at(&secret, late), None, late)
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "AUTH_FAILED");
    let ch = login::start_challenge(&store, u.id, step(30))
        .await
        .unwrap();
    login::verify_login(&store, &ch, &code_at(&secret, step(30)), None, step(30))
        .await
        .unwrap();
    let err = login::verify_login(&store, &ch, &code_at(&secret, step(31)), None, step(31))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "AUTH_FAILED");
    let a = actions(&store, u.id).await;
    assert!(
        a.iter().filter(|x| *x == "totp.failed").count() >= 3,
        "{a:?}"
    );
    assert!(a.iter().any(|x| x == "auth.login"), "{a:?}");
}

async fn s4_skew_one_step_each_way(store: Store) {
    let u = user(&store, "city1", Role::City, None).await;
    let (secret, _) = enrol(&store, &u).await;
    // One step behind and one step ahead are accepted (each a newer step than the last).
    let at = step(10);
    login_with(&store, "city1", &code_at(&secret, step(9)), at)
        .await
        .expect("code of the previous step");
    let at = step(20);
    login_with(&store, "city1", &code_at(&secret, step(21)), at)
        .await
        .expect("code of the next step");
    // Two steps away either way: refused.
    let at = step(40);
    for off in [-2, 2] {
        let err = login_with(&store, "city1", &code_at(&secret, step(40 + off)), at)
            .await
            .unwrap_err();
        assert_eq!(code_of(&err), "AUTH_FAILED", "offset {off}");
    }
    login_with(&store, "city1", &code_at(&secret, at), at)
        .await
        .expect("the current code");
}

async fn s4_recovery_code_once(store: Store) {
    let u = user(&store, "auditor1", Role::Auditor, None).await;
    let (_, codes) = enrol(&store, &u).await;
    let at = step(6);
    // As typed: upper case and spaces are forgiven.
    let typed = codes[3].to_uppercase().replace('-', " ");
    login_with(&store, "auditor1", &typed, at)
        .await
        .expect("a recovery code");
    let err = login_with(&store, "auditor1", &codes[3], at + Duration::seconds(40))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "AUTH_FAILED");
    assert_eq!(
        totp::status(&store, u.id)
            .await
            .unwrap()
            .recovery_codes_left,
        9
    );
    let a = actions(&store, u.id).await;
    assert_eq!(a.iter().filter(|x| *x == "totp.recovery_used").count(), 1);
}

async fn s4_secret_not_stored_in_clear(store: Store) {
    let u = user(&store, "sys1", Role::Sysadmin, None).await;
    let (secret, codes) = enrol(&store, &u).await;
    let backend = store.db().get_database_backend();
    let row = store
        .db()
        .query_one_raw(Statement::from_string(
            backend,
            format!(
                "SELECT secret, pending_secret, state FROM user_totp WHERE user_id = {}",
                u.id
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    let raw: String = row.try_get("", "secret").unwrap();
    let pending: Option<String> = row.try_get("", "pending_secret").unwrap();
    let state: String = row.try_get("", "state").unwrap();
    assert!(raw.starts_with("v1:"), "{raw}");
    assert!(!raw.contains(&secret));
    assert_eq!(pending, None);
    assert_eq!(state, "enabled");
    let hashes: Vec<String> = store
        .db()
        .query_all_raw(Statement::from_string(
            backend,
            format!(
                "SELECT code_hash FROM totp_recovery_codes WHERE user_id = {}",
                u.id
            ),
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "code_hash").unwrap())
        .collect();
    assert_eq!(hashes.len(), 10);
    for c in &codes {
        let bare = c.replace('-', "");
        assert!(hashes.iter().all(|h| !h.contains(&bare) && h != c));
    }
    // Under a different data key the secret does not open (fails closed).
    let other = peixun_store::pii::DataKeys::new([0x11; 32]);
    assert!(
        other
            .decrypt_field(peixun_store::pii::Field::TotpSecret, &raw)
            .is_err()
    );
}

async fn s4_lockout_after_five_wrong_codes(store: Store) {
    let u = user(&store, "staff1", Role::CentreStaff, None).await;
    let (secret, _) = enrol(&store, &u).await;
    let at = step(8);
    let good = code_at(&secret, at);
    let wrong = if good == "999999" { "888888" } else { "999999" };
    let PasswordOutcome::SecondFactor(_) =
        accounts::authenticate_password(&store, "staff1", PW, None, at)
            .await
            .unwrap()
    else {
        panic!("second factor")
    };
    let ch = login::start_challenge(&store, u.id, at).await.unwrap();
    for i in 1..=4 {
        let err = login::verify_login(&store, &ch, wrong, None, at)
            .await
            .unwrap_err();
        assert_eq!(code_of(&err), "AUTH_FAILED", "failure {i}");
    }
    // A correct password between wrong codes does not reset the count.
    let PasswordOutcome::SecondFactor(_) =
        accounts::authenticate_password(&store, "staff1", PW, None, at)
            .await
            .unwrap()
    else {
        panic!("second factor")
    };
    let err = login::verify_login(&store, &ch, wrong, None, at)
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "LOCKED");
    // Locked: the right code and the right password are refused for 15 minutes.
    let err = login::verify_login(&store, &ch, &good, None, at)
        .await
        .unwrap_err();
    assert_eq!(
        code_of(&err),
        "AUTH_FAILED",
        "the challenge went with the lock"
    );
    let err =
        accounts::authenticate_password(&store, "staff1", PW, None, at + Duration::minutes(14))
            .await
            .unwrap_err();
    assert_eq!(code_of(&err), "LOCKED");
    let later = at + Duration::minutes(15) + Duration::seconds(1);
    login_with(&store, "staff1", &code_at(&secret, later), later)
        .await
        .expect("after the lockout");
    let a = actions(&store, u.id).await;
    assert_eq!(a.iter().filter(|x| *x == "totp.failed").count(), 5, "{a:?}");
    assert_eq!(
        a.iter().filter(|x| *x == "auth.lockout").count(),
        1,
        "{a:?}"
    );
}

async fn s4_disable_replace_and_clear(store: Store) {
    // An institution user enrols voluntarily and may turn it off (password + code).
    let inst = support::institution(&store, 1, false).await;
    let iu = user(&store, "inst1", Role::InstitutionAdmin, Some(inst)).await;
    assert!(!totp::status(&store, iu.id).await.unwrap().required);
    assert!(!totp::enrolment_required(&store, iu.id).await.unwrap());
    let (isecret, _) = enrol(&store, &iu).await;
    let at = step(3);
    let err = totp::disable(&store, &me(&iu), iu.id, PW, "000000", at)
        .await
        .unwrap_err();
    assert!(matches!(code_of(&err), "TOTP_CODE_WRONG"), "{err:?}");
    totp::disable(&store, &me(&iu), iu.id, PW, &code_at(&isecret, at), at)
        .await
        .unwrap();
    assert_eq!(
        totp::status(&store, iu.id).await.unwrap().state,
        TotpState::NotEnrolled
    );

    // A required role cannot turn it off, but can replace the authenticator (a new phone):
    // the old one keeps working until the new one is confirmed.
    let u = user(&store, "ca1", Role::CentreAdmin, None).await;
    let (secret, _) = enrol(&store, &u).await;
    let err = totp::disable(
        &store,
        &me(&u),
        u.id,
        PW,
        &code_at(&secret, step(2)),
        step(2),
    )
    .await
    .unwrap_err();
    assert_eq!(code_of(&err), "TOTP_REQUIRED");
    let err = totp::begin_enrolment(&store, &me(&u), u.id, PW, None, step(3))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "TOTP_CODE_WRONG");
    let e = totp::begin_enrolment(
        &store,
        &me(&u),
        u.id,
        PW,
        Some(&code_at(&secret, step(3))),
        step(3),
    )
    .await
    .unwrap();
    assert_ne!(e.secret_base32, secret);
    let s = totp::status(&store, u.id).await.unwrap();
    assert!(s.replacing && s.state == TotpState::Enabled);
    totp::confirm(
        &store,
        &me(&u),
        u.id,
        &code_at(&e.secret_base32, step(5)),
        step(5),
    )
    .await
    .unwrap();
    login_with(&store, "ca1", &code_at(&e.secret_base32, step(9)), step(9))
        .await
        .expect("the new authenticator");

    // clear_totp: the sysadmin only; afterwards the account must enrol again.
    let centre = Actor::from_user(&u, None, None);
    let err = totp::clear_totp(&store, &centre, u.id, step(10))
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "FORBIDDEN");
    let admin = user(&store, "admin1", Role::Sysadmin, None).await;
    totp::clear_totp(&store, &me(&admin), u.id, step(10))
        .await
        .unwrap();
    assert!(totp::enrolment_required(&store, u.id).await.unwrap());
    let out = accounts::authenticate_password(&store, "ca1", PW, None, step(11))
        .await
        .unwrap();
    assert!(matches!(out, PasswordOutcome::LoggedIn(_)));
    let a = actions(&store, u.id).await;
    assert!(a.iter().any(|x| x == "totp.clear"), "{a:?}");
    assert!(
        actions(&store, iu.id)
            .await
            .iter()
            .any(|x| x == "totp.disable")
    );
}

async fn s4_demo_exemption(store: Store) {
    let u = user(&store, "demo_centre", Role::CentreAdmin, None).await;
    let err = totp::set_exempt(&store, &me(&u), u.id, true, t0())
        .await
        .unwrap_err();
    assert_eq!(code_of(&err), "FORBIDDEN");
    totp::set_exempt(&store, &Actor::system("demo-seed"), u.id, true, t0())
        .await
        .unwrap();
    let s = totp::status(&store, u.id).await.unwrap();
    assert!(s.exempt && !s.required);
    assert!(!totp::enrolment_required(&store, u.id).await.unwrap());
    accounts::authenticate(&store, "demo_centre", PW, None, t0())
        .await
        .expect("password alone");
}

on_both_backends!(
    s4_enrol_and_confirm,
    s4_login_wrong_and_replayed_codes,
    s4_skew_one_step_each_way,
    s4_recovery_code_once,
    s4_secret_not_stored_in_clear,
    s4_lockout_after_five_wrong_codes,
    s4_disable_replace_and_clear,
    s4_demo_exemption,
    s4_s7_two_person_reset_can_clear_a_lost_authenticator,
);

/// A lost phone and no recovery code left: the sysadmin's reset request asks for the
/// authenticator to be cleared too; nothing happens until a centre_admin confirms, then the
/// password is the two halves and the owner must enrol again (S4, S7).
async fn s4_s7_two_person_reset_can_clear_a_lost_authenticator(store: Store) {
    use peixun_store::credentials::{self, RequestKind};
    let sys = user(&store, "it_admin", Role::Sysadmin, None).await;
    let ca = user(&store, "chief", Role::CentreAdmin, None).await;
    let staff = user(&store, "officer", Role::CentreStaff, None).await;
    enrol(&store, &staff).await;
    assert!(!totp::enrolment_required(&store, staff.id).await.unwrap());
    let first =
        credentials::request_reset_with(&store, &me(&sys), staff.id, "手机丢失", true, step(1))
            .await
            .unwrap();
    assert_eq!(first.request.kind, RequestKind::ResetAuthenticator);
    assert!(
        !totp::enrolment_required(&store, staff.id).await.unwrap(),
        "nothing before the confirmation"
    );
    let second = credentials::confirm(&store, &me(&ca), first.request.id, step(2))
        .await
        .unwrap();
    assert!(
        totp::enrolment_required(&store, staff.id).await.unwrap(),
        "must enrol again"
    );
    assert!(
        actions(&store, staff.id)
            .await
            .iter()
            .any(|a| a == "totp.clear")
    );
    let otp = format!("{}-{}", first.half, second.half);
    assert!(
        accounts::authenticate(&store, "officer", &otp, None, step(3))
            .await
            .is_ok()
    );
    // A plain reset leaves the authenticator alone.
    let other = user(&store, "officer2", Role::CentreStaff, None).await;
    enrol(&store, &other).await;
    let r = credentials::request_reset(&store, &me(&sys), other.id, "忘记密码", step(4))
        .await
        .unwrap();
    credentials::confirm(&store, &me(&ca), r.request.id, step(5))
        .await
        .unwrap();
    assert!(!totp::enrolment_required(&store, other.id).await.unwrap());
}
