//! The IAM and STS actions the connector calls, one response type each, carrying its action
//! and service: [`crate::query::parse`] reads a response by its type alone, and
//! [`crate::query::requests::call`] builds the call.
//!
//! Source: IAM API Reference and STS API Reference, "Making Query Requests" (`Action`,
//! `Version`).

/// IAM API version sent with every IAM call.
pub const IAM_VERSION: &str = "2010-05-08";
/// STS API version sent with every STS call.
pub const STS_VERSION: &str = "2011-06-15";

/// The service an action belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// AWS Identity and Access Management.
    Iam,
    /// AWS Security Token Service.
    Sts,
}

impl Service {
    /// The signing name the host resolves and signs for: `iam` or `sts`.
    pub const fn signing_name(self) -> &'static str {
        match self {
            Service::Iam => "iam",
            Service::Sts => "sts",
        }
    }

    /// The `Version` parameter of every call to the service.
    pub const fn version(self) -> &'static str {
        match self {
            Service::Iam => IAM_VERSION,
            Service::Sts => STS_VERSION,
        }
    }
}

/// One action: the response type of a call names its service and its `Action`.
pub trait Operation {
    /// The service, e.g. [`Service::Iam`].
    const SERVICE: Service;
    /// The `Action` parameter, e.g. `ListUsers`; the response's root element is
    /// `<{ACTION}Response>`.
    const ACTION: &'static str;
}
