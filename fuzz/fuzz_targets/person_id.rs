#![no_main]
use libfuzzer_sys::fuzz_target;
use peixun_domain::ids::PersonId;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data)
        && let Ok(id) = PersonId::parse(s)
    {
        // A parsed ID re-parses to itself and masks without panicking.
        assert_eq!(PersonId::parse(id.as_str()).ok().as_ref(), Some(&id));
        let _ = id.masked();
        let _ = id.birth_date();
    }
});
