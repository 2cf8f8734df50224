//! Endpoint resolution: the service allowlist and the partition table.
//!
//! The component names a service (`iam`, `sts`), never a URL. This module maps the configured
//! region to its partition, and a service to the URL the host sends to and the region it signs
//! for. `--endpoint-url` replaces the URL for every service (for local endpoints such as moto);
//! the signing region still comes from the partition.

use std::fmt;

use http::Uri;

use crate::error::ConfigError;

/// A service the host agrees to call. Anything else is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// AWS Identity and Access Management (global per partition).
    Iam,
    /// AWS Security Token Service (regional endpoints).
    Sts,
}

impl Service {
    /// Every allowed service.
    pub const ALL: [Service; 2] = [Service::Iam, Service::Sts];

    /// Parses a SigV4 signing name; `None` for a service outside the allowlist.
    pub fn from_signing_name(name: &str) -> Option<Service> {
        Service::ALL
            .into_iter()
            .find(|service| service.signing_name() == name)
    }

    /// The SigV4 signing name (`iam`, `sts`).
    pub fn signing_name(self) -> &'static str {
        match self {
            Service::Iam => "iam",
            Service::Sts => "sts",
        }
    }

    /// The Query API version every call of the service must name (`Version` parameter):
    /// IAM `2010-05-08`, STS `2011-06-15`.
    pub fn api_version(self) -> &'static str {
        match self {
            Service::Iam => "2010-05-08",
            Service::Sts => "2011-06-15",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.signing_name())
    }
}

/// One AWS partition: its regions and how its IAM and STS endpoints are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// Partition id: `aws`, `aws-cn`, `aws-us-gov`.
    pub id: &'static str,
    /// DNS suffix of regional endpoints, e.g. `amazonaws.com`.
    pub dns_suffix: &'static str,
    /// Host of the partition's single IAM endpoint.
    pub iam_host: &'static str,
    /// Region IAM requests are signed for.
    pub iam_signing_region: &'static str,
    /// Host of the partition's AWS Organizations endpoint (called by the host alone, in
    /// organization mode; never reachable by the component).
    pub organizations_host: &'static str,
    /// Region Organizations requests are signed for.
    pub organizations_signing_region: &'static str,
    /// Regions this harness accepts in the partition.
    pub regions: &'static [&'static str],
}

/// The supported partitions. Adding one is adding a row.
pub const PARTITIONS: &[Partition] = &[
    Partition {
        id: "aws",
        dns_suffix: "amazonaws.com",
        iam_host: "iam.amazonaws.com",
        iam_signing_region: "us-east-1",
        organizations_host: "organizations.us-east-1.amazonaws.com",
        organizations_signing_region: "us-east-1",
        regions: &[
            "af-south-1",
            "ap-east-1",
            "ap-east-2",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
            "ap-southeast-5",
            "ap-southeast-6",
            "ap-southeast-7",
            "ca-central-1",
            "ca-west-1",
            "eu-central-1",
            "eu-central-2",
            "eu-north-1",
            "eu-south-1",
            "eu-south-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "il-central-1",
            "me-central-1",
            "me-south-1",
            "mx-central-1",
            "sa-east-1",
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
        ],
    },
    Partition {
        id: "aws-cn",
        dns_suffix: "amazonaws.com.cn",
        iam_host: "iam.cn-north-1.amazonaws.com.cn",
        iam_signing_region: "cn-north-1",
        organizations_host: "organizations.cn-northwest-1.amazonaws.com.cn",
        organizations_signing_region: "cn-northwest-1",
        regions: &["cn-north-1", "cn-northwest-1"],
    },
    Partition {
        id: "aws-us-gov",
        dns_suffix: "amazonaws.com",
        iam_host: "iam.us-gov.amazonaws.com",
        iam_signing_region: "us-gov-west-1",
        organizations_host: "organizations.us-gov-west-1.amazonaws.com",
        organizations_signing_region: "us-gov-west-1",
        regions: &["us-gov-east-1", "us-gov-west-1"],
    },
];

/// Where one call goes and how it is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The exact URL the request is POSTed to and signed for, e.g. `https://iam.amazonaws.com/`.
    pub url: String,
    /// Host (and port, when not the default) of `url`, for logs.
    pub host: String,
    /// SigV4 signing region.
    pub signing_region: &'static str,
    /// SigV4 signing name.
    pub service: Service,
}

impl Partition {
    /// The partition of `region`, with the region as a `'static` str; `None` when unknown.
    pub fn of_region(region: &str) -> Option<(&'static Partition, &'static str)> {
        PARTITIONS.iter().find_map(|partition| {
            partition
                .regions
                .iter()
                .find(|r| **r == region)
                .map(|r| (partition, *r))
        })
    }

    /// Host of the regional STS endpoint of `region`: `sts.<region>.<dns suffix>`.
    pub fn sts_host(&self, region: &str) -> String {
        format!("sts.{region}.{}", self.dns_suffix)
    }
}

/// Resolves services to endpoints for one region (and optional override URLs).
#[derive(Debug, Clone)]
pub struct EndpointResolver {
    partition: &'static Partition,
    region: &'static str,
    endpoint_override: Option<(String, String)>,
    sts_override: Option<(String, String)>,
}

impl EndpointResolver {
    /// Resolves `region` to its partition and validates `endpoint_url`.
    ///
    /// `endpoint_url` must be `http(s)://host[:port][/path]`, without credentials, query or
    /// fragment; plain `http` only for a loopback IP literal (`127.0.0.0/8`, `[::1]`; not a
    /// name such as `localhost`, which a resolver could send elsewhere), since a session token
    /// travels in a header. Errors: [`ConfigError::UnknownRegion`]
    /// (listing the supported regions), [`ConfigError::InvalidEndpointUrl`].
    pub fn new(region: &str, endpoint_url: Option<&str>) -> Result<Self, ConfigError> {
        let (partition, region) =
            Partition::of_region(region).ok_or_else(|| ConfigError::UnknownRegion {
                region: region.to_owned(),
                supported: supported_regions(),
            })?;
        let endpoint_override = endpoint_url.map(parse_endpoint_url).transpose()?;
        Ok(EndpointResolver {
            partition,
            region,
            endpoint_override,
            sts_override: None,
        })
    }

    /// Sends STS calls (GetCallerIdentity, AssumeRoleWithWebIdentity) to `sts_url` instead
    /// (`AWS_ENDPOINT_URL_STS`; it wins over `--endpoint-url` for STS). Same rules as the
    /// `--endpoint-url` of [`EndpointResolver::new`]; `None` changes nothing.
    ///
    /// Errors: [`ConfigError::InvalidEndpointUrl`].
    pub fn with_sts_override(mut self, sts_url: Option<&str>) -> Result<Self, ConfigError> {
        if let Some(url) = sts_url {
            self.sts_override = Some(parse_endpoint_url(url)?);
        }
        Ok(self)
    }

    /// The partition of the configured region.
    pub fn partition(&self) -> &'static Partition {
        self.partition
    }

    /// The configured region.
    pub fn region(&self) -> &'static str {
        self.region
    }

    /// Whether `--endpoint-url` (or `AWS_ENDPOINT_URL_STS`) replaces a real endpoint.
    pub fn is_overridden(&self) -> bool {
        self.endpoint_override.is_some() || self.sts_override.is_some()
    }

    /// The endpoint for `service`: the override URL if one is set (for STS,
    /// `AWS_ENDPOINT_URL_STS` first), else the partition's. IAM signs for the partition's IAM
    /// region; STS for the configured region.
    pub fn resolve(&self, service: Service) -> Endpoint {
        let (signing_region, default_host, service_override) = match service {
            Service::Iam => (
                self.partition.iam_signing_region,
                self.partition.iam_host.to_owned(),
                None,
            ),
            Service::Sts => (
                self.region,
                self.partition.sts_host(self.region),
                self.sts_override.as_ref(),
            ),
        };
        let (url, host) = match service_override.or(self.endpoint_override.as_ref()) {
            Some((url, host)) => (url.clone(), host.clone()),
            None => (format!("https://{default_host}/"), default_host),
        };
        Endpoint {
            url,
            host,
            signing_region,
            service,
        }
    }
}

impl EndpointResolver {
    /// Where the host's own AWS Organizations calls go (organization mode's ListAccounts):
    /// `--endpoint-url` when set, else the partition's single Organizations endpoint
    /// (`organizations.us-east-1.amazonaws.com` for `aws`), signed for its region. Not a
    /// [`Service`]: the component can never name it.
    pub fn organizations(&self) -> HostEndpoint {
        let (url, host) = match &self.endpoint_override {
            Some((url, host)) => (url.clone(), host.clone()),
            None => {
                let host = self.partition.organizations_host.to_owned();
                (format!("https://{host}/"), host)
            }
        };
        HostEndpoint {
            url,
            host,
            signing_region: self.partition.organizations_signing_region,
        }
    }
}

/// An endpoint only the host calls (AWS Organizations): URL, host for logs, signing region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEndpoint {
    /// The URL requests go to, e.g. `https://organizations.us-east-1.amazonaws.com/`.
    pub url: String,
    /// Host (and port) of `url`, for logs.
    pub host: String,
    /// SigV4 signing region.
    pub signing_region: &'static str,
}

/// "aws: us-east-1, …; aws-cn: …; aws-us-gov: …".
fn supported_regions() -> String {
    PARTITIONS
        .iter()
        .map(|partition| format!("{}: {}", partition.id, partition.regions.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Validates an override URL and normalises it to `scheme://authority/path` (path `/` when
/// empty). Returns (url, authority).
pub(crate) fn parse_endpoint_url(url: &str) -> Result<(String, String), ConfigError> {
    let invalid = |reason: &str| ConfigError::InvalidEndpointUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let uri: Uri = url.parse().map_err(|_| invalid("not a URL"))?;
    let scheme = uri
        .scheme_str()
        .ok_or_else(|| invalid("missing scheme (http:// or https://)"))?;
    let authority = uri.authority().ok_or_else(|| invalid("missing host"))?;
    if authority.as_str().contains('@') {
        return Err(invalid("credentials in the URL are not allowed"));
    }
    if authority.host().is_empty() {
        return Err(invalid("missing host"));
    }
    if uri.query().is_some() || url.contains('#') {
        return Err(invalid("query and fragment are not allowed"));
    }
    match scheme {
        "https" => {}
        "http" if is_loopback(authority.host()) => {}
        "http" => return Err(invalid(
            "plain http is allowed only for a loopback IP address (127.0.0.1, [::1]); use https",
        )),
        _ => return Err(invalid("scheme must be http or https")),
    }
    let path = match uri.path() {
        "" => "/",
        path => path,
    };
    Ok((
        format!("{scheme}://{authority}{path}"),
        authority.as_str().to_owned(),
    ))
}

/// Whether `host` is a loopback IP literal (`127.0.0.0/8`, `[::1]`). Names are not: what they
/// resolve to is not the host's to decide.
fn is_loopback(host: &str) -> bool {
    let host = host
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(host);
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// Whether `host` (no port) is an AWS endpoint host: a name under `amazonaws.com` or
/// `amazonaws.com.cn`.
pub fn is_aws_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    ["amazonaws.com", "amazonaws.com.cn"].iter().any(|suffix| {
        host.strip_suffix(suffix)
            .is_some_and(|rest| rest.ends_with('.'))
    })
}

/// Whether `url` (as validated by [`EndpointResolver::new`]) is plain http to a loopback IP.
pub fn is_loopback_http(url: &str) -> bool {
    url.parse::<Uri>()
        .is_ok_and(|uri| uri.scheme_str() == Some("http") && uri.host().is_some_and(is_loopback))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organizations_is_the_partition_endpoint_or_the_override_and_never_a_service() {
        let cases = [
            (
                "eu-west-3",
                "https://organizations.us-east-1.amazonaws.com/",
                "us-east-1",
            ),
            (
                "cn-north-1",
                "https://organizations.cn-northwest-1.amazonaws.com.cn/",
                "cn-northwest-1",
            ),
            (
                "us-gov-east-1",
                "https://organizations.us-gov-west-1.amazonaws.com/",
                "us-gov-west-1",
            ),
        ];
        for (region, url, signing_region) in cases {
            let endpoint = EndpointResolver::new(region, None).unwrap().organizations();
            assert_eq!(
                (endpoint.url.as_str(), endpoint.signing_region),
                (url, signing_region)
            );
        }
        let local = EndpointResolver::new("us-east-1", Some("http://127.0.0.1:5055"))
            .unwrap()
            .organizations();
        assert_eq!(
            (local.url.as_str(), local.host.as_str()),
            ("http://127.0.0.1:5055/", "127.0.0.1:5055")
        );
        assert_eq!(Service::from_signing_name("organizations"), None);
    }

    #[test]
    fn allowlist_is_iam_and_sts_only() {
        assert_eq!(Service::from_signing_name("iam"), Some(Service::Iam));
        assert_eq!(Service::from_signing_name("sts"), Some(Service::Sts));
        for refused in ["s3", "IAM", "", "iam ", "ec2", "sso"] {
            assert_eq!(Service::from_signing_name(refused), None, "{refused:?}");
        }
    }

    #[test]
    fn aws_partition_endpoints() {
        let resolver = EndpointResolver::new("eu-west-1", None).unwrap();
        assert_eq!(resolver.partition().id, "aws");
        let iam = resolver.resolve(Service::Iam);
        assert_eq!(iam.url, "https://iam.amazonaws.com/");
        assert_eq!(iam.host, "iam.amazonaws.com");
        assert_eq!(iam.signing_region, "us-east-1");
        let sts = resolver.resolve(Service::Sts);
        assert_eq!(sts.url, "https://sts.eu-west-1.amazonaws.com/");
        assert_eq!(sts.signing_region, "eu-west-1");
    }

    #[test]
    fn china_and_govcloud_endpoints() {
        let cn = EndpointResolver::new("cn-northwest-1", None).unwrap();
        assert_eq!(cn.partition().id, "aws-cn");
        assert_eq!(
            cn.resolve(Service::Iam).url,
            "https://iam.cn-north-1.amazonaws.com.cn/"
        );
        assert_eq!(cn.resolve(Service::Iam).signing_region, "cn-north-1");
        assert_eq!(
            cn.resolve(Service::Sts).url,
            "https://sts.cn-northwest-1.amazonaws.com.cn/"
        );

        let gov = EndpointResolver::new("us-gov-east-1", None).unwrap();
        assert_eq!(gov.partition().id, "aws-us-gov");
        assert_eq!(
            gov.resolve(Service::Iam).url,
            "https://iam.us-gov.amazonaws.com/"
        );
        assert_eq!(gov.resolve(Service::Iam).signing_region, "us-gov-west-1");
        assert_eq!(
            gov.resolve(Service::Sts).url,
            "https://sts.us-gov-east-1.amazonaws.com/"
        );
        assert_eq!(gov.resolve(Service::Sts).signing_region, "us-gov-east-1");
    }

    /// (region, partition, IAM URL, IAM signing region, STS URL, STS signing region).
    const TABLE: [(&str, &str, &str, &str, &str, &str); 6] = [
        (
            "us-east-1",
            "aws",
            "https://iam.amazonaws.com/",
            "us-east-1",
            "https://sts.us-east-1.amazonaws.com/",
            "us-east-1",
        ),
        (
            "eu-west-1",
            "aws",
            "https://iam.amazonaws.com/",
            "us-east-1",
            "https://sts.eu-west-1.amazonaws.com/",
            "eu-west-1",
        ),
        (
            "cn-north-1",
            "aws-cn",
            "https://iam.cn-north-1.amazonaws.com.cn/",
            "cn-north-1",
            "https://sts.cn-north-1.amazonaws.com.cn/",
            "cn-north-1",
        ),
        (
            "cn-northwest-1",
            "aws-cn",
            "https://iam.cn-north-1.amazonaws.com.cn/",
            "cn-north-1",
            "https://sts.cn-northwest-1.amazonaws.com.cn/",
            "cn-northwest-1",
        ),
        (
            "us-gov-west-1",
            "aws-us-gov",
            "https://iam.us-gov.amazonaws.com/",
            "us-gov-west-1",
            "https://sts.us-gov-west-1.amazonaws.com/",
            "us-gov-west-1",
        ),
        (
            "us-gov-east-1",
            "aws-us-gov",
            "https://iam.us-gov.amazonaws.com/",
            "us-gov-west-1",
            "https://sts.us-gov-east-1.amazonaws.com/",
            "us-gov-east-1",
        ),
    ];

    #[test]
    fn partition_table_exact() {
        for (region, partition, iam_url, iam_region, sts_url, sts_region) in TABLE {
            let resolver = EndpointResolver::new(region, None).unwrap();
            let iam = resolver.resolve(Service::Iam);
            let sts = resolver.resolve(Service::Sts);
            assert_eq!(
                (
                    resolver.partition().id,
                    iam.url.as_str(),
                    iam.signing_region,
                    sts.url.as_str(),
                    sts.signing_region
                ),
                (partition, iam_url, iam_region, sts_url, sts_region),
                "{region}"
            );
            assert!(!resolver.is_overridden());
        }
    }

    #[test]
    fn sts_override_wins_for_sts_only() {
        let resolver = EndpointResolver::new("eu-west-1", Some("http://127.0.0.1:5077"))
            .unwrap()
            .with_sts_override(Some("http://[::1]:6000/sts"))
            .unwrap();
        assert_eq!(resolver.resolve(Service::Iam).url, "http://127.0.0.1:5077/");
        let sts = resolver.resolve(Service::Sts);
        assert_eq!(
            (sts.url.as_str(), sts.host.as_str(), sts.signing_region),
            ("http://[::1]:6000/sts", "[::1]:6000", "eu-west-1")
        );
        let only_sts = EndpointResolver::new("us-east-1", None)
            .unwrap()
            .with_sts_override(Some("http://127.0.0.1:6001/"))
            .unwrap();
        assert!(only_sts.is_overridden());
        assert_eq!(
            only_sts.resolve(Service::Iam).url,
            "https://iam.amazonaws.com/"
        );
        assert!(matches!(
            EndpointResolver::new("us-east-1", None)
                .unwrap()
                .with_sts_override(Some("http://sts.example.com/")),
            Err(ConfigError::InvalidEndpointUrl { .. })
        ));
    }

    #[test]
    fn aws_hosts_and_loopback_urls() {
        for host in [
            "sts.us-east-1.amazonaws.com",
            "iam.amazonaws.com",
            "sts.cn-north-1.amazonaws.com.cn",
            "STS.EU-WEST-1.AMAZONAWS.COM.",
        ] {
            assert!(is_aws_host(host), "{host}");
        }
        for host in [
            "amazonaws.com.evil.example",
            "notamazonaws.com",
            "sts.example.com",
            "127.0.0.1",
            "amazonaws.com",
        ] {
            assert!(!is_aws_host(host), "{host}");
        }
        assert!(is_loopback_http("http://127.0.0.1:5077/"));
        assert!(is_loopback_http("http://[::1]:5077/"));
        assert!(!is_loopback_http("https://127.0.0.1:5077/"));
        assert!(!is_loopback_http("http://localhost:5077/"));
    }

    #[test]
    fn unknown_region_message_is_exact() {
        let error = EndpointResolver::new("mars-north-1", None).unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown region \"mars-north-1\"; supported regions: aws: af-south-1, ap-east-1, \
             ap-east-2, ap-northeast-1, ap-northeast-2, ap-northeast-3, ap-south-1, ap-south-2, \
             ap-southeast-1, ap-southeast-2, ap-southeast-3, ap-southeast-4, ap-southeast-5, \
             ap-southeast-6, ap-southeast-7, ca-central-1, ca-west-1, eu-central-1, \
             eu-central-2, eu-north-1, eu-south-1, eu-south-2, eu-west-1, eu-west-2, eu-west-3, \
             il-central-1, me-central-1, me-south-1, mx-central-1, sa-east-1, us-east-1, \
             us-east-2, us-west-1, us-west-2; aws-cn: cn-north-1, cn-northwest-1; aws-us-gov: \
             us-gov-east-1, us-gov-west-1"
        );
    }

    #[test]
    fn unknown_region_lists_supported_ones() {
        let error = EndpointResolver::new("mars-north-1", None).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("mars-north-1"), "{message}");
        assert!(message.contains("aws: af-south-1"), "{message}");
        assert!(
            message.contains("aws-cn: cn-north-1, cn-northwest-1"),
            "{message}"
        );
        assert!(
            message.contains("aws-us-gov: us-gov-east-1, us-gov-west-1"),
            "{message}"
        );
    }

    #[test]
    fn override_replaces_every_url_but_keeps_signing_regions() {
        let resolver = EndpointResolver::new("us-west-2", Some("http://127.0.0.1:5077")).unwrap();
        assert!(resolver.is_overridden());
        let iam = resolver.resolve(Service::Iam);
        assert_eq!(
            (iam.url.as_str(), iam.host.as_str(), iam.signing_region),
            ("http://127.0.0.1:5077/", "127.0.0.1:5077", "us-east-1")
        );
        let sts = resolver.resolve(Service::Sts);
        assert_eq!(
            (sts.url.as_str(), sts.signing_region),
            ("http://127.0.0.1:5077/", "us-west-2")
        );
        let with_path =
            EndpointResolver::new("us-east-1", Some("https://proxy.example.com/aws/")).unwrap();
        assert_eq!(
            with_path.resolve(Service::Iam).url,
            "https://proxy.example.com/aws/"
        );
        assert!(EndpointResolver::new("us-east-1", Some("http://[::1]:4566")).is_ok());
        assert!(EndpointResolver::new("us-east-1", Some("http://127.3.2.1:4566")).is_ok());
        assert!(EndpointResolver::new("us-east-1", Some("https://localhost:4566")).is_ok());
    }

    #[test]
    fn bad_override_urls_are_refused() {
        for url in [
            "127.0.0.1:5077",
            "ftp://127.0.0.1/",
            "http://example.com/",
            "http://localhost:4566/",
            "http://LOCALHOST/",
            "http://127.0.0.1.nip.io/",
            "http://[::ffff:10.0.0.1]/",
            "https://user:pw@example.com/",
            "https://example.com/?a=b",
            "https://example.com/#x",
            "not a url",
        ] {
            let error = EndpointResolver::new("us-east-1", Some(url)).unwrap_err();
            assert!(
                matches!(error, ConfigError::InvalidEndpointUrl { .. }),
                "{url}: {error}"
            );
        }
    }
}
