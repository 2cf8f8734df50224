//! A `user-inventory` component for the host's sandbox tests. `settings.max-items` picks
//! what `collect` does, so one component covers every misbehaviour:
//! 1 loops forever, 2 allocates without bound, 3 traps, 4 returns the cursor it was given,
//! 5 returns an event that is not JSON, anything else returns one empty, final page.

mod bindings {
    wit_bindgen::generate!({ path: "../../../wit", world: "user-inventory" });
}

use bindings::exports::aws_iam_users::connector::inventory::{
    CheckReport, ConnectorError, Guest, Page, PageStats, Settings, Strategy,
};

struct Misbehaving;

impl Guest for Misbehaving {
    fn check(_: Settings) -> Result<CheckReport, ConnectorError> {
        Err(ConnectorError::InvalidSettings("check is not implemented by this test component".into()))
    }

    fn collect(settings: Settings, cursor: Option<String>) -> Result<Page, ConnectorError> {
        let page = |events: Vec<String>, cursor: Option<String>| Page {
            events,
            cursor,
            stats: PageStats {
                users: 0,
                skipped_users: 0,
                api_calls: 0,
                errors: vec![],
                account_users: None,
                strategy: Strategy::PerUser,
                fallback: None,
                root_users: 0,
            },
        };
        match settings.max_items {
            1 => loop {
                std::hint::black_box(());
            },
            2 => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            3 => panic!("this component traps on purpose"),
            4 => Ok(page(vec![], Some(cursor.unwrap_or_else(|| "same".into())).map(|_| "same".into()))),
            5 => Ok(page(vec!["{not json".into()], None)),
            _ => Ok(page(vec![], None)),
        }
    }

    fn version() -> String {
        "0.0.0".into()
    }
}

bindings::export!(Misbehaving with_types_in bindings);
