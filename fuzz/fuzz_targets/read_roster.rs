#![no_main]
use libfuzzer_sys::fuzz_target;
use peixun_import::FileType;

fuzz_target!(|data: &[u8]| {
    let _ = peixun_import::read_roster(data, None);
    let _ = peixun_import::read_roster_detailed(data, Some(FileType::Csv));
});
