#![no_main]
use libfuzzer_sys::fuzz_target;
use peixun_import::archive_zip::{ArchiveZip, ZipLimits};

// S17: the archive bulk upload (.zip) never panics; whatever opens is read entry by entry and
// every name goes through the matcher.
fuzz_target!(|data: &[u8]| {
    let limits = ZipLimits {
        max_bytes: 1 << 20,
        max_entries: 64,
        max_entry_bytes: 1 << 20,
        max_unpacked_bytes: 4 << 20,
    };
    if let Ok(mut z) = ArchiveZip::open(data.to_vec(), limits) {
        let entries = z.entries().to_vec();
        for e in entries {
            let _ = z.read(e.index);
            let _ = peixun_domain::archive::match_entry(&e.name, &[], &[]);
        }
    }
});
