#![no_main]
use libfuzzer_sys::fuzz_target;
use peixun_domain::credit_code::CreditCode;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(c) = CreditCode::parse(s) {
            assert_eq!(CreditCode::parse(c.as_str()).ok().as_ref(), Some(&c));
            let _ = (c.authority_label(), c.category_label(), c.region_code());
        }
        let _ = CreditCode::parse_lenient(s);
    }
});
