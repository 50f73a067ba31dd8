//! S7 two-person credential issue on SQLite and PostgreSQL: a sysadmin's new account or reset is
//! only a request with the first half of the one-time password; a centre_admin (or the
//! institution's admin, for its staff) confirms and gets the second; only both halves together
//! sign in, and the owner must then change the password. Neither the requester nor the account's
//! owner can confirm; requests expire, are replaced and can be withdrawn; every step is audited.

mod support;

use chrono::Duration;
use peixun_domain::role::Role;
use peixun_store::accounts::{self, NewUser, UserView};
use peixun_store::audit::{self, AuditFilter};
use peixun_store::credentials::{self, NewAccount, RequestKind, RequestState};
use peixun_store::{Actor, PageRequest, Store, StoreError};
use support::*;

support::on_both_backends!(
    s7_sysadmin_alone_cannot_sign_in_as_a_reset_account,
    s7_new_account_needs_a_confirmation_before_any_password_works,
    s7_requester_owner_and_other_roles_cannot_confirm,
    s7_institution_admin_confirms_only_its_own_staff,
    s7_requests_expire_are_replaced_and_can_be_withdrawn,
    s7_bad_input_is_refused_and_changes_nothing,
);

const PW: &str = "Known#Pass2026x";

async fn user(store: &Store, name: &str, role: Role, inst: Option<i64>) -> (UserView, Actor) {
    let u = accounts::create_user(
        store,
        &Actor::system("test"),
        NewUser {
            username: name.into(),
            display_name: name.into(),
            role,
            institution_id: inst,
            password: PW.into(),
            must_change_password: false,
        },
        t0(),
    )
    .await
    .unwrap();
    let a = Actor::from_user(&u, None, None);
    (u, a)
}

async fn login(store: &Store, name: &str, pw: &str) -> bool {
    accounts::authenticate(store, name, pw, None, later(1))
        .await
        .is_ok()
}

async fn audit_count(store: &Store, action: &str) -> u64 {
    audit::search(
        store,
        &Actor::system("test"),
        &AuditFilter {
            action: Some(action.into()),
            ..Default::default()
        },
        &PageRequest::default(),
    )
    .await
    .unwrap()
    .total
}

async fn s7_sysadmin_alone_cannot_sign_in_as_a_reset_account(store: Store) {
    let (_, sys) = user(&store, "it_admin", Role::Sysadmin, None).await;
    let (_, ca) = user(&store, "chief", Role::CentreAdmin, None).await;
    let (target, _) = user(&store, "officer", Role::CentreStaff, None).await;
    let first = credentials::request_reset(&store, &sys, target.id, "忘记密码，已电话核实", t0())
        .await
        .unwrap();
    assert_eq!(first.request.kind, RequestKind::Reset);
    assert_eq!(first.request.state, RequestState::Pending);
    // Nothing changes until the confirmation: the old password still works, the half does not.
    assert!(login(&store, "officer", PW).await);
    assert!(!login(&store, "officer", &first.half).await);
    assert!(
        !accounts::get_user(&store, target.id)
            .await
            .unwrap()
            .must_change_password
    );
    // The sysadmin cannot confirm their own request.
    let e = credentials::confirm(&store, &sys, first.request.id, t0())
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e:?}");

    let second = credentials::confirm(&store, &ca, first.request.id, later(5))
        .await
        .unwrap();
    assert_eq!(second.request.state, RequestState::Confirmed);
    assert_eq!(second.request.decided_by.as_deref(), Some("chief"));
    assert_ne!(first.half, second.half);
    // Either half alone, or the halves swapped, fails; the old password is gone.
    assert!(!login(&store, "officer", &first.half).await);
    assert!(!login(&store, "officer", &second.half).await);
    assert!(
        !login(
            &store,
            "officer",
            &format!("{}-{}", second.half, first.half)
        )
        .await
    );
    assert!(!login(&store, "officer", PW).await);
    let together = format!("{}-{}", first.half, second.half);
    assert!(login(&store, "officer", &together).await);
    // Typed without separators, or with a space, it still works.
    let compact: String = together.chars().filter(|c| *c != '-').collect();
    assert!(login(&store, "officer", &compact).await);
    let u = accounts::get_user(&store, target.id).await.unwrap();
    assert!(
        u.must_change_password,
        "the owner must set their own password"
    );
    // The owner replaces it; the two-person password is then gone for good.
    let me = Actor::from_user(&u, None, None);
    accounts::change_password(
        &store,
        &me,
        u.id,
        &together,
        "Mine#Own2026pw",
        None,
        later(2),
    )
    .await
    .unwrap();
    assert!(!login(&store, "officer", &together).await);
    assert!(login(&store, "officer", "Mine#Own2026pw").await);
    // A confirmed request cannot be confirmed again.
    let e = credentials::confirm(&store, &ca, first.request.id, later(6))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Conflict {
                code: "CREDENTIAL_REQUEST_DECIDED",
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(audit_count(&store, "user.credential_requested").await, 1);
    assert_eq!(audit_count(&store, "user.credential_confirmed").await, 1);
    assert_eq!(audit_count(&store, "user.password_reset").await, 1);
}

async fn s7_new_account_needs_a_confirmation_before_any_password_works(store: Store) {
    let (_, sys) = user(&store, "it_admin", Role::Sysadmin, None).await;
    let (_, ca) = user(&store, "chief", Role::CentreAdmin, None).await;
    let first = credentials::request_new_account(
        &store,
        &sys,
        NewAccount {
            username: "new_auditor".into(),
            display_name: "审计员".into(),
            role: Role::Auditor,
            institution_id: None,
        },
        "",
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(first.request.kind, RequestKind::Create);
    assert_eq!(first.request.reason, "新建账号");
    let states = credentials::account_states(&store, t0()).await.unwrap();
    assert!(states.pending.contains(&first.request.user.id));
    assert!(states.no_password.contains(&first.request.user.id));
    // No password opens the new account before the confirmation — not even an empty one.
    assert!(!login(&store, "new_auditor", &first.half).await);
    assert!(!login(&store, "new_auditor", "").await);
    let second = credentials::confirm(&store, &ca, first.request.id, later(3))
        .await
        .unwrap();
    assert!(
        login(
            &store,
            "new_auditor",
            &format!("{}-{}", first.half, second.half)
        )
        .await
    );
    let states = credentials::account_states(&store, later(4)).await.unwrap();
    assert!(states.pending.is_empty() && states.no_password.is_empty());
    // A taken username is refused naming the field, and creates nothing.
    let e = credentials::request_new_account(
        &store,
        &sys,
        NewAccount {
            username: "new_auditor".into(),
            display_name: "".into(),
            role: Role::Auditor,
            institution_id: None,
        },
        "",
        t0(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Conflict {
                code: "USERNAME_TAKEN",
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        credentials::list_requests(&store, &sys, false, later(5))
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn s7_requester_owner_and_other_roles_cannot_confirm(store: Store) {
    let (_, sys) = user(&store, "it_admin", Role::Sysadmin, None).await;
    let (_, sys2) = user(&store, "it_admin2", Role::Sysadmin, None).await;
    let (ca_user, ca) = user(&store, "chief", Role::CentreAdmin, None).await;
    let (_, ca2) = user(&store, "deputy", Role::CentreAdmin, None).await;
    let (_, staff) = user(&store, "officer", Role::CentreStaff, None).await;
    let (_, auditor) = user(&store, "watcher", Role::Auditor, None).await;
    // A sysadmin cannot request for themselves.
    let e = credentials::request_reset(&store, &sys, sys.user_id.unwrap(), "自己忘了", t0())
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Validation {
                code: "CREDENTIAL_OWN_ACCOUNT",
                ..
            }
        ),
        "{e:?}"
    );
    // Only sysadmins request.
    let e = credentials::request_reset(&store, &ca, staff.user_id.unwrap(), "忘记密码", t0())
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden { .. }), "{e:?}");
    // A reset of the centre_admin: not the centre_admin themself, not another sysadmin, not
    // staff or the auditor — another centre_admin.
    let req = credentials::request_reset(&store, &sys, ca_user.id, "忘记密码，已当面核实", t0())
        .await
        .unwrap();
    for who in [&ca, &sys2, &staff, &auditor] {
        let e = credentials::confirm(&store, who, req.request.id, t0())
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                StoreError::Forbidden { .. } | StoreError::NotFound { .. }
            ),
            "{:?}: {e:?}",
            who.role
        );
    }
    assert!(login(&store, "chief", PW).await, "nothing changed");
    let second = credentials::confirm(&store, &ca2, req.request.id, t0())
        .await
        .unwrap();
    assert!(login(&store, "chief", &format!("{}-{}", req.half, second.half)).await);
    // Staff and the auditor do not even see requests.
    for who in [&staff, &auditor] {
        let e = credentials::list_requests(&store, who, false, t0())
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Forbidden { .. }));
    }
}

async fn s7_institution_admin_confirms_only_its_own_staff(store: Store) {
    let a = institution(&store, 1, false).await;
    let b = institution(&store, 2, false).await;
    let (_, sys) = user(&store, "it_admin", Role::Sysadmin, None).await;
    let (_, a_admin) = user(&store, "a_admin", Role::InstitutionAdmin, Some(a)).await;
    let (a_staff, _) = user(&store, "a_staff", Role::InstitutionStaff, Some(a)).await;
    let (a_admin2, _) = user(&store, "a_admin2", Role::InstitutionAdmin, Some(a)).await;
    let (_, b_admin) = user(&store, "b_admin", Role::InstitutionAdmin, Some(b)).await;
    let staff_req = credentials::request_reset(&store, &sys, a_staff.id, "经办人忘记密码", t0())
        .await
        .unwrap();
    let admin_req = credentials::request_reset(&store, &sys, a_admin2.id, "管理员忘记密码", t0())
        .await
        .unwrap();
    // A's admin sees and may confirm the staff's request, not another admin's (S6: it is not
    // even visible); B's admin sees neither.
    let seen: Vec<i64> = credentials::list_requests(&store, &a_admin, true, t0())
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(seen, vec![staff_req.request.id]);
    assert!(
        credentials::list_requests(&store, &b_admin, true, t0())
            .await
            .unwrap()
            .is_empty()
    );
    for (who, id) in [
        (&b_admin, staff_req.request.id),
        (&a_admin, admin_req.request.id),
    ] {
        let e = credentials::confirm(&store, who, id, t0())
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::NotFound { .. }), "{e:?}");
    }
    assert_eq!(
        credentials::count_to_confirm(&store, &a_admin, t0())
            .await
            .unwrap(),
        1
    );
    let second = credentials::confirm(&store, &a_admin, staff_req.request.id, t0())
        .await
        .unwrap();
    assert!(
        login(
            &store,
            "a_staff",
            &format!("{}-{}", staff_req.half, second.half)
        )
        .await
    );
    assert_eq!(
        credentials::count_to_confirm(&store, &a_admin, t0())
            .await
            .unwrap(),
        0
    );
}

async fn s7_requests_expire_are_replaced_and_can_be_withdrawn(store: Store) {
    let (_, sys) = user(&store, "it_admin", Role::Sysadmin, None).await;
    let (_, ca) = user(&store, "chief", Role::CentreAdmin, None).await;
    let (target, _) = user(&store, "officer", Role::CentreStaff, None).await;
    // Expired after 72 hours: refused, and the account is untouched.
    let old = credentials::request_reset(&store, &sys, target.id, "忘记密码", t0())
        .await
        .unwrap();
    let late = t0() + credentials::REQUEST_VALID + Duration::minutes(1);
    let e = credentials::confirm(&store, &ca, old.request.id, late)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Conflict {
                code: "CREDENTIAL_REQUEST_EXPIRED",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(login(&store, "officer", PW).await);
    // A new request replaces the pending one: the old first half can never be completed.
    let newer = credentials::request_reset(&store, &sys, target.id, "重新发起", t0())
        .await
        .unwrap();
    let e = credentials::confirm(&store, &ca, old.request.id, t0())
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Conflict {
                code: "CREDENTIAL_REQUEST_DECIDED",
                ..
            }
        ),
        "{e:?}"
    );
    let open = credentials::list_requests(&store, &ca, true, t0())
        .await
        .unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].id, newer.request.id);
    // Withdrawn by the confirmer: cancelled, nothing changed, cannot be confirmed afterwards.
    let c = credentials::cancel(&store, &ca, newer.request.id, t0())
        .await
        .unwrap();
    assert_eq!(c.state, RequestState::Cancelled);
    assert!(
        credentials::confirm(&store, &ca, newer.request.id, t0())
            .await
            .is_err()
    );
    assert!(login(&store, "officer", PW).await);
    assert_eq!(audit_count(&store, "user.credential_cancelled").await, 2);
}

async fn s7_bad_input_is_refused_and_changes_nothing(store: Store) {
    let (_, sys) = user(&store, "it_admin", Role::Sysadmin, None).await;
    let (target, _) = user(&store, "officer", Role::CentreStaff, None).await;
    for (reason, code) in [
        ("", "REASON_REQUIRED"),
        (" x ", "REASON_REQUIRED"),
        ("原因\u{202E}反转", "TEXT_FORBIDDEN_CHAR"),
    ] {
        let e = credentials::request_reset(&store, &sys, target.id, reason, t0())
            .await
            .unwrap_err();
        assert_eq!(e.problems()[0].code, code, "{reason:?}: {e:?}");
        assert_eq!(e.problems()[0].field.as_deref(), Some("reason"));
    }
    let long = "很".repeat(credentials::REASON_MAX_CHARS + 1);
    let e = credentials::request_reset(&store, &sys, target.id, &long, t0())
        .await
        .unwrap_err();
    assert_eq!(e.problems()[0].code, "TEXT_TOO_LONG");
    let e = credentials::request_reset(&store, &sys, 987_654, "忘记密码", t0())
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }));
    // Every problem of a new account at once (R-VAL-1).
    let e = credentials::request_new_account(
        &store,
        &sys,
        NewAccount {
            username: "x".into(),
            display_name: "".into(),
            role: Role::InstitutionStaff,
            institution_id: None,
        },
        "",
        t0(),
    )
    .await
    .unwrap_err();
    let fields: Vec<_> = e.problems().into_iter().filter_map(|p| p.field).collect();
    assert!(fields.contains(&"username".to_string()), "{fields:?}");
    assert!(fields.contains(&"institution_id".to_string()), "{fields:?}");
    assert!(
        credentials::list_requests(&store, &sys, false, t0())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(audit_count(&store, "user.credential_requested").await, 0);
}
