//! peixun's parsers of uploaded files, over bytes only (the callers read and store files):
//!
//! * [`sniff`]: the file type from its content, never its name (SECURITY.md S16);
//! * [`read_roster`]: a roster (花名册) from .xlsx or .csv into
//!   [`peixun_domain::roster::RawRow`]s for [`peixun_domain::roster::validate_roster`]
//!   (R-FIL-2, S22);
//! * [`roster_template_xlsx`] / [`roster_template_csv`]: the downloadable template;
//! * [`synthetic_roster_xlsx`]: deterministic valid rosters for benchmarks.
//!
//! Every parser is fuzzed (`fuzz/`, S17) and never panics: bad input is an [`ImportError`].

pub mod archive_zip;
pub mod results;
pub mod roster;
pub mod sniff;
pub mod synthetic;
pub mod template;

pub use roster::{
    ImportError, MAX_CELL_CHARS, MAX_COLUMNS, MAX_FILE_BYTES, MAX_ROWS, RosterRead, read_roster,
    read_roster_detailed,
};
pub use sniff::{FileType, is_legacy_office, sniff};
pub use synthetic::{synthetic_roster_xlsx, synthetic_rows};
pub use template::{roster_template_csv, roster_template_xlsx, roster_template_xlsx_for};
