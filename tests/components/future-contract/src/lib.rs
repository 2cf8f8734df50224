//! A `user-inventory` component built from `wit/world.wit` with the package's minor version
//! bumped (`tests/components/build.rs` generates that WIT beside a copy of this crate): a
//! contract the host does not speak. The host must refuse it before instantiating
//! (`tests/all/release.rs`); were it ever run, it would collect nothing.

mod bindings {
    wit_bindgen::generate!({ path: "wit", world: "user-inventory" });
}

use bindings::exports::aws_iam_users::connector::inventory::{
    CheckReport, ConnectorError, Guest, Page, PageStats, Settings, Strategy,
};

struct FutureContract;

impl Guest for FutureContract {
    fn check(_: Settings) -> Result<CheckReport, ConnectorError> {
        Err(ConnectorError::InvalidSettings("check is not implemented by this test component".into()))
    }

    fn collect(_: Settings, _: Option<String>, _: Option<String>) -> Result<Page, ConnectorError> {
        let stats = PageStats {
            users: 0,
            skipped_users: 0,
            api_calls: 0,
            errors: vec![],
            account_users: None,
            strategy: Strategy::PerUser,
            fallback: None,
            root_users: 0,
        };
        Ok(Page { events: vec![], cursor: None, stats, run_state: None })
    }

    fn version() -> String {
        env!("CARGO_PKG_VERSION").into()
    }
}

bindings::export!(FutureContract with_types_in bindings);
