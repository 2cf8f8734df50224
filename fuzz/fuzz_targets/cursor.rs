//! The collection cursor comes back from the host's checkpoint file: any text must decode
//! to a cursor or an `InvalidCursor` error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = aws_iam_users::cursor::Cursor::decode(text);
    }
});
