//! Marker/IsTruncated pagination of IAM List* actions, with loop guards.
//!
//! Source: IAM API Reference, "Common Parameters" (`Marker`, `MaxItems`) and each List*
//! action's `IsTruncated`/`Marker` response elements.

use crate::error::{ConnectorError, MalformedResponse};
use crate::host::QueryCall;
use crate::query::requests;

/// Most pages one List* call may take before the listing is judged endless. IAM's own
/// limits (10 groups per user, 8 MFA devices, 2 access keys, 50 tags) need far fewer.
pub const MAX_PAGES: u32 = 1_000;

/// A List* call for one resource, followed page by page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pager {
    action: &'static str,
    params: Vec<(&'static str, String)>,
    max_items: u32,
    marker: Option<String>,
    seen: Vec<String>,
}

impl Pager {
    /// Starts at the first page. `params` are the action's own (e.g. `UserName`).
    pub fn new(action: &'static str, params: Vec<(&'static str, String)>, max_items: u32) -> Self {
        Self {
            action,
            params,
            max_items,
            marker: None,
            seen: Vec::new(),
        }
    }

    /// IAM action, e.g. `ListGroupsForUser`.
    pub fn action(&self) -> &'static str {
        self.action
    }

    /// The call for the current page.
    pub fn call(&self) -> QueryCall {
        let params: Vec<(&str, &str)> = self.params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        requests::list_page(self.action, &params, self.max_items, self.marker.as_deref())
    }

    /// Moves past a page that said `is_truncated` and `marker`. Returns whether another
    /// page must be fetched.
    ///
    /// Errors (as `MalformedResponse`): `IsTruncated` true without a `Marker`, a `Marker`
    /// already seen in this listing, more than [`MAX_PAGES`] pages.
    pub fn advance(
        &mut self,
        is_truncated: bool,
        marker: Option<String>,
    ) -> Result<bool, ConnectorError> {
        if !is_truncated {
            return Ok(false);
        }
        let marker = marker.ok_or_else(|| {
            self.malformed("IsTruncated is true but no Marker was returned".into())
        })?;
        check_next_marker(
            self.action,
            &self.seen,
            &marker,
            self.seen.len() as u64 + 1,
            MAX_PAGES,
        )?;
        self.seen.push(marker.clone());
        self.marker = Some(marker);
        Ok(true)
    }

    fn malformed(&self, detail: String) -> ConnectorError {
        malformed(self.action, detail)
    }
}

/// Loop guards shared by every listing: `marker` must be new and the listing must not
/// exceed `max_pages` pages (`pages_so_far` counts the pages already read).
pub fn check_next_marker(
    action: &str,
    seen: &[String],
    marker: &str,
    pages_so_far: u64,
    max_pages: u32,
) -> Result<(), ConnectorError> {
    if seen.iter().any(|m| m == marker) {
        return Err(malformed(
            action,
            format!("Marker {marker:?} was returned twice"),
        ));
    }
    if pages_so_far >= u64::from(max_pages) {
        return Err(malformed(action, format!("more than {max_pages} pages")));
    }
    Ok(())
}

fn malformed(action: &str, detail: String) -> ConnectorError {
    ConnectorError::MalformedResponse(MalformedResponse {
        action: action.to_owned(),
        status: 200,
        detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pager() -> Pager {
        Pager::new("ListGroupsForUser", vec![("UserName", "carol".into())], 2)
    }

    #[test]
    fn follows_markers_until_not_truncated() {
        let mut p = pager();
        assert_eq!(p.call().param("Marker"), None);
        assert!(p.advance(true, Some("m1".into())).unwrap());
        let call = p.call();
        assert_eq!(call.param("Marker"), Some("m1"));
        assert_eq!(call.param("UserName"), Some("carol"));
        assert_eq!(call.param("MaxItems"), Some("2"));
        assert!(!p.advance(false, None).unwrap());
    }

    #[test]
    fn truncated_without_marker_is_an_error() {
        let err = pager().advance(true, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ListGroupsForUser returned an unreadable response (HTTP 200): IsTruncated is true but no Marker was returned"
        );
    }

    #[test]
    fn a_repeated_marker_is_an_error() {
        let mut p = pager();
        p.advance(true, Some("a".into())).unwrap();
        p.advance(true, Some("b".into())).unwrap();
        let err = p.advance(true, Some("a".into())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ListGroupsForUser returned an unreadable response (HTTP 200): Marker \"a\" was returned twice"
        );
    }

    #[test]
    fn too_many_pages_is_an_error() {
        let mut p = pager();
        for i in 0..MAX_PAGES - 1 {
            assert!(p.advance(true, Some(format!("m{i}"))).unwrap());
        }
        let err = p.advance(true, Some("last".into())).unwrap_err();
        assert!(err.to_string().ends_with("more than 1000 pages"), "{err}");
    }
}
