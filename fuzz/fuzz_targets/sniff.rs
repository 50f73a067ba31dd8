#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let t = peixun_import::sniff(data);
    if let Some(t) = t {
        let _ = (t.mime(), t.extension(), t.label_zh());
    }
});
