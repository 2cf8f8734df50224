//! The component's name and version as custom sections of its core module, so a host can read
//! them without compiling or instantiating anything (`host-harness inspect`), the way Zed reads
//! `zed:api-version`. The `version` export stays the source of truth at run time; these
//! sections are for tools, and `wasm-tools strip` removes them.
//!
//! Only built for `wasm32`: on other targets a `#[link_section]` would name an object-file
//! section instead.

const VERSION: &[u8] = env!("CARGO_PKG_VERSION").as_bytes();
const NAME: &[u8] = env!("CARGO_PKG_NAME").as_bytes();

/// Custom section `aws-iam-users:version`: the crate version (`0.2.0`), UTF-8, no terminator.
#[used]
#[link_section = "aws-iam-users:version"]
static VERSION_BYTES: [u8; VERSION.len()] = to_array(VERSION);

/// Custom section `aws-iam-users:name`: the crate name (`aws-iam-users`), UTF-8.
#[used]
#[link_section = "aws-iam-users:name"]
static NAME_BYTES: [u8; NAME.len()] = to_array(NAME);

/// Copies `bytes` into an array of exactly its length (a custom section's content).
const fn to_array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut array = [0u8; N];
    let mut index = 0;
    while index < N {
        array[index] = bytes[index];
        index += 1;
    }
    array
}
