//! The role × route table (SECURITY.md S5): who may call each route, in one declarative list,
//! [`ROUTES`], with the role sets it uses. [`super::Registrar`] refuses to register a route that
//! has no entry here; [`crate::auth::authorize`] answers 403 for a route the table does not know.

use peixun_domain::role::Role;
/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user, even one who must still change the one-time password.
    Session,
    /// Any signed-in user who has a usable password.
    AnyUser,
    /// Only these roles.
    Roles(&'static [Role]),
}

impl Access {
    pub fn allows(self, role: Role) -> bool {
        match self {
            Access::Public | Access::Session | Access::AnyUser => true,
            Access::Roles(rs) => rs.contains(&role),
        }
    }

    pub fn allowed_before_password_change(self) -> bool {
        matches!(self, Access::Public | Access::Session)
    }
}

use Role::*;

/// 区培训中心: maintain the institution directory.
pub const CENTRE: &[Role] = &[CentreAdmin, CentreStaff];
/// Every business role reads institutions and teachers; institution roles see only their own
/// (enforced in the store, S6). sysadmin and auditor see no business data (S7).
pub const BUSINESS: &[Role] = &[
    CentreAdmin,
    CentreStaff,
    Bureau,
    City,
    InstitutionAdmin,
    InstitutionStaff,
];
/// Teachers: the centre manages all, an institution its own.
pub const TEACHER_WRITE: &[Role] = &[CentreAdmin, CentreStaff, InstitutionAdmin, InstitutionStaff];
pub const SYSADMIN: &[Role] = &[Sysadmin];
/// Credential requests (S7): sysadmins see and withdraw theirs, confirmers see and decide.
pub const CREDENTIAL_REQUESTS: &[Role] = &[Sysadmin, CentreAdmin, InstitutionAdmin];
/// Who may confirm a credential request (the store checks which ones).
pub const CREDENTIAL_CONFIRM: &[Role] = &[CentreAdmin, InstitutionAdmin];
/// Plans, rounds, caps and agreements (R-PLAN-*, R-CAP-*, R-AGR-1): the centre admin decides.
pub const CENTRE_ADMIN: &[Role] = &[CentreAdmin];
/// The bureau co-approves the year plan (R-PLAN-1).
pub const BUREAU: &[Role] = &[Bureau];
/// Who reads plans and caps: the centre, the bureau and the city.
pub const PLAN_READ: &[Role] = &[CentreAdmin, CentreStaff, Bureau, City];
/// Institutions apply, file and read their inbox (their own records only, S6).
pub const INSTITUTION: &[Role] = &[InstitutionAdmin, InstitutionStaff];
pub const AUDITOR: &[Role] = &[Auditor];
/// Policy versions (R-POL-1): the sysadmin proposes, a centre_admin confirms; the centre, the
/// bureau and the city read them.
pub const POLICY_READ: &[Role] = &[Sysadmin, CentreAdmin, CentreStaff, Bureau, City];
/// Exam results and certificate codes (R-CRT-1): the centre and the class's own institution
/// (checked per record in the store, S6); not the bureau or the city (names of trainees).
pub const RESULTS_READ: &[Role] = &[CentreAdmin, CentreStaff, InstitutionAdmin, InstitutionStaff];
/// A class's survey counts (R-EVA-3): the centre, bureau, city and the class's own institution
/// (checked per record in the store, S6: another institution gets 404).
pub const SURVEY_CLASS_READ: &[Role] = BUSINESS;

/// One row of the role × route table.
#[derive(Debug, Clone, Copy)]
pub struct RouteDef {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

pub(super) const fn r(method: &'static str, path: &'static str, access: Access) -> RouteDef {
    RouteDef {
        method,
        path,
        access,
    }
}

/// The table entry for a matched route (HEAD is checked as GET by the caller).
pub fn access_for(method: &str, path: &str) -> Option<Access> {
    super::route_table::ROUTES
        .iter()
        .find(|d| d.method == method && d.path == path)
        .map(|d| d.access)
}
