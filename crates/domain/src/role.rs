//! Roles (SPEC.md §1) and the separation of duties (三权分立, SECURITY.md S7).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A user's role. Institution roles are bound to exactly one institution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 区培训中心负责人
    CentreAdmin,
    /// 区培训中心经办人
    CentreStaff,
    /// 区人社局
    Bureau,
    /// 市职培中心
    City,
    /// 培训机构管理员
    InstitutionAdmin,
    /// 培训机构经办人
    InstitutionStaff,
    /// 审计管理员
    Auditor,
    /// 系统管理员
    Sysadmin,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::CentreAdmin,
        Role::CentreStaff,
        Role::Bureau,
        Role::City,
        Role::InstitutionAdmin,
        Role::InstitutionStaff,
        Role::Auditor,
        Role::Sysadmin,
    ];

    /// The stable code used in the database, the API and the CLI.
    pub fn code(self) -> &'static str {
        match self {
            Role::CentreAdmin => "centre_admin",
            Role::CentreStaff => "centre_staff",
            Role::Bureau => "bureau",
            Role::City => "city",
            Role::InstitutionAdmin => "institution_admin",
            Role::InstitutionStaff => "institution_staff",
            Role::Auditor => "auditor",
            Role::Sysadmin => "sysadmin",
        }
    }

    /// The name a user sees.
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::CentreAdmin => "区培训中心负责人",
            Role::CentreStaff => "区培训中心经办人",
            Role::Bureau => "区人社局",
            Role::City => "市职培中心",
            Role::InstitutionAdmin => "培训机构管理员",
            Role::InstitutionStaff => "培训机构经办人",
            Role::Auditor => "审计管理员",
            Role::Sysadmin => "系统管理员",
        }
    }

    /// Bound to one institution (and may see only its records, SECURITY.md S6).
    pub fn is_institution(self) -> bool {
        matches!(self, Role::InstitutionAdmin | Role::InstitutionStaff)
    }

    /// A role of the district centre.
    pub fn is_centre(self) -> bool {
        matches!(self, Role::CentreAdmin | Role::CentreStaff)
    }

    /// A business role: anything but sysadmin and auditor (S7).
    pub fn is_business(self) -> bool {
        !matches!(self, Role::Sysadmin | Role::Auditor)
    }

    /// The roles that must sign in with a second factor (TOTP, SECURITY.md S4): the centre, the
    /// bureau, the city, the sysadmin and the auditor. The one list of them; institution roles
    /// may enrol voluntarily.
    pub fn requires_second_factor(self) -> bool {
        matches!(
            self,
            Role::CentreAdmin
                | Role::CentreStaff
                | Role::Bureau
                | Role::City
                | Role::Sysadmin
                | Role::Auditor
        )
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知角色 unknown role: {0}")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.code() == s)
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_codes_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.code().parse::<Role>().unwrap(), r);
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn s7_sysadmin_and_auditor_are_not_business_roles() {
        assert!(!Role::Sysadmin.is_business());
        assert!(!Role::Auditor.is_business());
        assert!(Role::CentreStaff.is_business());
    }

    #[test]
    fn s4_second_factor_roles() {
        let required: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.requires_second_factor())
            .collect();
        assert_eq!(
            required,
            vec![
                Role::CentreAdmin,
                Role::CentreStaff,
                Role::Bureau,
                Role::City,
                Role::Auditor,
                Role::Sysadmin
            ]
        );
    }
}
