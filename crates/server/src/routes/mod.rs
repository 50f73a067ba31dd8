//! Every route and who may call it: [`ROUTES`] is the one declarative role × route table
//! (SECURITY.md S5). The router is built through [`Registrar`], which refuses (panics at start) to
//! register a route that has no entry in the table, and records what it registered so that the
//! tests can check every route against their own expected outcomes. Deny by default: a route the
//! table does not know is answered 403 by [`crate::auth::authorize`].

pub mod api_admin;
pub mod api_auth;
pub mod api_filing_package;
pub mod api_institutions;
pub mod api_rounds;
pub mod api_running;
pub mod archive;
pub mod calendar;
pub mod certificates;
pub mod credentials;
pub mod evaluation_reports;
pub mod evaluations;
pub mod forms;
pub mod jobs_admin;
pub mod ops;
pub mod pages_admin;
pub mod pages_agreements;
pub mod pages_auth;
pub mod pages_bulletin;
pub mod pages_filing_package;
pub mod pages_institutions;
pub mod pages_requests;
pub mod pages_rounds;
pub mod policies;
pub mod rounds_forms;
pub mod running;
pub mod surveys;
pub mod totp;
pub mod trainees;
pub mod violations;

use crate::AppState;
use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodRouter, get, post, put};
mod access;
mod route_table;
pub use access::*;
pub use route_table::ROUTES;

/// Builds the router and records every (method, path) it registers.
pub struct Registrar {
    router: Router<AppState>,
    registered: Vec<(&'static str, &'static str)>,
}

impl Registrar {
    fn new() -> Self {
        Registrar {
            router: Router::new(),
            registered: Vec::new(),
        }
    }

    fn add(mut self, method: &'static str, path: &'static str, mr: MethodRouter<AppState>) -> Self {
        assert!(
            access_for(method, path).is_some(),
            "route {method} {path} has no entry in routes::ROUTES (deny by default)"
        );
        self.registered.push((method, path));
        self.router = self.router.route(path, mr);
        self
    }

    pub fn get<H, T>(self, path: &'static str, h: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add("GET", path, get(h))
    }

    pub fn post<H, T>(self, path: &'static str, h: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add("POST", path, post(h))
    }

    pub fn put<H, T>(self, path: &'static str, h: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add("PUT", path, put(h))
    }
}

fn build() -> Registrar {
    let r = Registrar::new();
    let r = ops::register(r);
    let r = pages_auth::register(r);
    let r = api_auth::register(r);
    let r = totp::register(r);
    let r = api_institutions::register(r);
    let r = pages_institutions::register(r);
    let r = api_admin::register(r);
    let r = calendar::register(r);
    let r = api_rounds::register(r);
    let r = pages_rounds::register(r);
    let r = pages_agreements::register(r);
    let r = pages_bulletin::register(r);
    let r = api_filing_package::register(r);
    let r = pages_filing_package::register(r);
    let r = trainees::register(r);
    let r = pages_requests::register(r);
    let r = api_running::register(r);
    let r = running::register(r);
    let r = archive::register(r);
    let r = policies::register(r);
    let r = certificates::register(r);
    let r = surveys::register(r);
    let r = violations::register(r);
    let r = evaluations::register(r);
    let r = evaluation_reports::register(r);
    let r = jobs_admin::register(r);
    let r = credentials::register(r);
    pages_admin::register(r)
}

/// Every (method, path) the router serves, in registration order (for the S5 table test).
pub fn registered_routes() -> Vec<(&'static str, &'static str)> {
    build().registered
}

/// The routes without middleware or state (see [`crate::router`]).
pub(crate) fn routes() -> Router<AppState> {
    build().router
}
