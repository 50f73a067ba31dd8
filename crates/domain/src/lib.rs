//! peixun's rules (SPEC.md §3–§5): pure functions and parse-don't-validate newtypes.
//!
//! No I/O, no async, no database or HTTP types. Every function that applies a number from the
//! guideline takes a [`policy::Policy`] rather than a constant (R-POL-1).
