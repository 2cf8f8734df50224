//! Marker/IsTruncated pagination of IAM List* actions, with loop guards.
//!
//! Source: IAM API Reference, "Common Parameters" (`Marker`, `MaxItems`) and each List*
//! action's `IsTruncated`/`Marker` response elements.

use crate::error::ConnectorError;
use crate::host::QueryCall;
use crate::query::requests;

/// Most pages one per-user or per-group listing may take before it is judged endless.
/// IAM's own limits (10 groups per user, 8 MFA devices, 2 access keys, 50 tags) need far
/// fewer.
pub const MAX_PAGES: u64 = 1_000;

/// A List* call for one resource, followed page by page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pager {
    action: &'static str,
    params: Vec<(&'static str, String)>,
    max_items: u32,
    marker: Option<String>,
    /// Markers already followed (in this process; a resumed listing knows only its last).
    seen: Vec<String>,
    /// Pages read before the current one.
    pages: u64,
    max_pages: u64,
    /// Whether the action takes `MaxItems`/`Marker` (Get* actions do not).
    paged: bool,
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
            pages: 0,
            max_pages: MAX_PAGES,
            paged: true,
        }
    }

    /// Resumes a listing at `marker` after `pages` pages, allowing `max_pages` in all.
    pub fn resume(
        action: &'static str,
        max_items: u32,
        marker: Option<String>,
        pages: u64,
        max_pages: u64,
    ) -> Self {
        Self {
            seen: marker.iter().cloned().collect(),
            marker,
            pages,
            max_pages,
            ..Self::new(action, Vec::new(), max_items)
        }
    }

    /// A call that is not paged (e.g. GetLoginProfile): one request, no `MaxItems`.
    pub fn single(action: &'static str, params: Vec<(&'static str, String)>) -> Self {
        Self {
            paged: false,
            ..Self::new(action, params, 0)
        }
    }

    /// Replaces the action's own parameters (e.g. a filter of a resumed listing).
    pub fn set_params(&mut self, params: Vec<(&'static str, String)>) {
        self.params = params;
    }

    /// The `Marker` of the current page; `None` on the first.
    pub fn marker(&self) -> Option<&str> {
        self.marker.as_deref()
    }

    /// Pages read before the current one.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// The call for the current page.
    pub fn call(&self) -> QueryCall {
        let params: Vec<(&str, &str)> = self.params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if !self.paged {
            return requests::iam(self.action, &params);
        }
        requests::list_page(self.action, &params, self.max_items, self.marker.as_deref())
    }

    /// Moves past a page that said `is_truncated` and `marker`. Returns whether another
    /// page must be fetched.
    ///
    /// Errors (as `MalformedResponse`): `IsTruncated` true without a `Marker`, a `Marker`
    /// already followed, more pages than the listing allows.
    pub fn advance(
        &mut self,
        is_truncated: bool,
        marker: Option<String>,
    ) -> Result<bool, ConnectorError> {
        self.pages += 1;
        if !is_truncated {
            return Ok(false);
        }
        let marker = marker.ok_or_else(|| {
            self.malformed("IsTruncated is true but no Marker was returned".into())
        })?;
        if self.seen.contains(&marker) {
            return Err(self.malformed(format!("Marker {marker:?} was returned twice")));
        }
        if self.pages >= self.max_pages {
            return Err(self.malformed(format!("more than {} pages", self.max_pages)));
        }
        self.seen.push(marker.clone());
        self.marker = Some(marker);
        Ok(true)
    }

    fn malformed(&self, detail: String) -> ConnectorError {
        ConnectorError::malformed(self.action, 200, detail)
    }
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
        assert_eq!(p.pages(), 2);
    }

    #[test]
    fn single_calls_take_no_paging_parameters() {
        let p = Pager::single("GetLoginProfile", vec![("UserName", "carol".into())]);
        assert_eq!(
            p.call().params,
            [
                ("Action", "GetLoginProfile"),
                ("Version", "2010-05-08"),
                ("UserName", "carol")
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
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
    fn a_resumed_listing_refuses_its_own_marker_again() {
        let mut p = Pager::resume("ListUsers", 2, Some("same".into()), 3, 10);
        assert_eq!(p.call().param("Marker"), Some("same"));
        assert!(p.advance(true, Some("same".into())).is_err());
        let mut p = Pager::resume("ListUsers", 2, Some("m9".into()), 9, 10);
        let err = p.advance(true, Some("m10".into())).unwrap_err();
        assert!(err.to_string().ends_with("more than 10 pages"), "{err}");
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
