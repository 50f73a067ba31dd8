//! The one place where store errors become application errors.

use crate::error::{AppError, ErrorItem};
use peixun_store::StoreError;

fn entity_zh(entity: &str) -> &str {
    match entity {
        "user" => "该用户",
        "institution" => "该培训机构",
        "teacher" => "该师资",
        "session" => "该会话",
        other => other,
    }
}

pub(crate) fn map_store_error(e: StoreError) -> AppError {
    match e {
        StoreError::NotFound { entity } => AppError::NotFound(entity_zh(entity).to_string()),
        StoreError::Validation {
            code: "AUTH_FAILED",
            ..
        } => AppError::AuthFailed,
        StoreError::Validation {
            code,
            message,
            field,
        } => AppError::Validation {
            code: code.to_string(),
            message,
            field,
        },
        StoreError::Invalid { problems } => AppError::Invalid {
            problems: problems
                .into_iter()
                .map(|p| ErrorItem {
                    code: p.code.to_string(),
                    message: p.message,
                    field: p.field,
                })
                .collect(),
        },
        StoreError::Conflict {
            code,
            message,
            field,
        } => AppError::Conflict {
            code: code.to_string(),
            message,
            field,
        },
        StoreError::Forbidden { message } => AppError::Forbidden(message),
        // S2: a locked account answers like a wrong password (the lockout is audited).
        StoreError::Locked { .. } => AppError::AuthFailed,
        other @ StoreError::Db(_) => AppError::Internal(anyhow::Error::new(other)),
    }
}
