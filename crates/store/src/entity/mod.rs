//! SeaORM entities (compact format). Views, not these models, leave the crate's services.

pub mod agreement;
pub mod application;
pub mod attendance_mark;
pub mod attendance_record;
pub mod audit_log;
pub mod class_flag;
pub mod class_progress;
pub mod filing;
pub mod holiday_year;
pub mod inbox_message;
pub mod inspection;
pub mod institution;
pub mod institution_qualification;
pub mod monthly_report;
pub mod overdue_sanction;
pub mod plan;
pub mod plan_change;
pub mod policy_version;
pub mod prior_performance;
pub mod quota_slot;
pub mod round;
pub mod session;
pub mod teacher;
pub mod teacher_change;
pub mod teacher_qualification;
pub mod user;
