//! AWS credentials: where they come from, and the cache every signed call goes through.
//!
//! Resolution order (the AWS SDKs' order, first match wins; nothing is guessed past it — no
//! profile files, no IMDS, no container endpoint):
//! 1. the config file (`--config FILE`): `access_key_id` + `secret_access_key`, or `role_arn`
//!    (+ `web_identity_token_file`, `role_session_name`);
//! 2. `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`);
//! 3. `AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE` (+ `AWS_ROLE_SESSION_NAME`): a role assumed
//!    with STS AssumeRoleWithWebIdentity ([`web_identity`]).
//!
//! [`plan`] decides which, without touching the network (`check --dry-run` prints it);
//! [`CredentialSource`] then yields credentials for every signed call: static keys as they are,
//! assumed-role credentials from a cache refreshed [`REFRESH_BUFFER`] before they expire, so a
//! long run never signs with expired credentials. Secrets go only to the signer: never into
//! errors, logs or the component; each is registered with [`crate::redact`] as it is read.
//!
//! In organization mode, [`assume_role`] turns the configured credentials into each member
//! account's: STS AssumeRole of the member role, behind a refreshing source of its own.

pub mod assume_role;
mod plan;
mod source;
pub mod web_identity;

pub use assume_role::RoleAssumer;
pub use plan::{
    from_lookup, plan, validate_role_arn, AuthMethod, Origin, Plan, ACCESS_KEY_ID_VAR,
    ROLE_ARN_VAR, SECRET_ACCESS_KEY_VAR, SESSION_NAME_VAR, SESSION_TOKEN_VAR, TOKEN_FILE_VAR,
};
pub use source::{CredentialSource, REFRESH_BUFFER};
pub use web_identity::WebIdentitySettings;
