//! Every IAM/STS response reader and the error-document reader, on arbitrary bytes with an
//! arbitrary HTTP status: each must return (a value or an error), never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data {
        [high, low, body @ ..] => (u16::from_be_bytes([*high, *low]), body),
        _ => (200, data),
    };
    aws_iam_users::query::parse_with_every_reader(status, body);
});
