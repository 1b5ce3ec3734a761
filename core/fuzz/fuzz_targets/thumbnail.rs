#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    printstall_core_fuzz::picture(data);
});
