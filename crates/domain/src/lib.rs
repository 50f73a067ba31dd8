//! peixun's rules (SPEC.md §3–§5): pure functions and parse-don't-validate newtypes.
//!
//! No I/O, no async, no database or HTTP types. Every function that applies a number from the
//! guideline takes a [`policy::Policy`] rather than a constant (R-POL-1).

pub mod archive;
pub mod calendar;
pub mod cap;
pub mod certificate;
pub mod credit_code;
pub mod evaluation;
pub mod filing;
pub mod ids;
pub mod policy;
pub mod queue;
pub mod retirement;
pub mod role;
pub mod roster;
pub mod rules;
pub mod schedule;
pub mod survey;
pub mod text;
pub mod workflow;
