//! The host side of the WIT `identity` interface: the partition and region of the transport's
//! endpoints, the auth method and role of its credential source, never a credential.

use super::bindings::identity as wit;
use super::state::HostState;

impl wit::Host for HostState {
    fn describe(&mut self) -> wit::Info {
        let transport = &self.imports.transport;
        let endpoints = transport.endpoints();
        let source = transport.signer().source();
        let info = wit::Info {
            auth_method: source.method().into(),
            partition: endpoints.partition().id.to_owned(),
            region: endpoints.region().to_owned(),
            role_arn: source.role_arn().map(str::to_owned),
        };
        if let Some(recorder) = &self.imports.recorder {
            recorder.record("identity.describe", String::new(), format!("{info:?}"));
        }
        info
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::credentials::{AuthMethod, CredentialSource};
    use crate::endpoint::EndpointResolver;
    use crate::limits::TransportConfig;
    use crate::logging::{LogLevel, Logger};
    use crate::sandbox::state::Imports;
    use crate::signing::Signer;
    use crate::test_support::{canary_credentials, SharedBuffer};
    use crate::transport::Transport;

    #[test]
    fn the_identity_import_reports_method_partition_region_and_role() {
        let logger = Arc::new(Logger::with_sink(
            LogLevel::Debug,
            true,
            Box::new(SharedBuffer::default()),
        ));
        let role = "arn:aws-cn:iam::123456789012:role/connector-reader-role";
        let source = CredentialSource::refreshing(
            AuthMethod::WebIdentityRole,
            Some(role.into()),
            canary_credentials(),
            Duration::from_secs(300),
            logger.clone(),
        )
        .unwrap();
        let transport = Transport::new(
            Signer::from_source(Arc::new(source)),
            EndpointResolver::new("cn-northwest-1", None).unwrap(),
            TransportConfig::default(),
            logger.clone(),
        );
        let imports = Imports {
            transport: Arc::new(transport),
            logger,
            recorder: None,
        };
        let mut state = HostState::new(imports, usize::MAX);
        let info = <HostState as wit::Host>::describe(&mut state);
        assert!(matches!(info.auth_method, wit::AuthMethod::WebIdentityRole));
        assert_eq!(info.partition, "aws-cn");
        assert_eq!(info.region, "cn-northwest-1");
        assert_eq!(info.role_arn.as_deref(), Some(role));
        assert!(!format!("{info:?}").contains("CANARY"));
    }
}
