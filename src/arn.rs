//! Amazon Resource Names, read and never built: the partition comes from the ARN itself
//! (`aws`, `aws-cn`, `aws-us-gov`, …), so no `arn:aws` is assumed.
//!
//! Source: IAM User Guide, "IAM identifiers" — `arn:partition:service:region:account-id:resource`.

/// The parts of an ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    /// Empty for global services such as IAM.
    pub region: &'a str,
    /// 12 digits.
    pub account_id: &'a str,
    /// e.g. `user/engineering/bob` (may itself contain `:`).
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Parses `value`; `None` if it is not an ARN with a 12-digit account id.
    pub fn parse(value: &'a str) -> Option<Self> {
        let mut parts = value.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let arn = Self {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account_id: parts.next()?,
            resource: parts.next()?,
        };
        let account_ok =
            arn.account_id.len() == 12 && arn.account_id.bytes().all(|b| b.is_ascii_digit());
        (account_ok && !arn.partition.is_empty()).then_some(arn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_and_paths() {
        let a =
            Arn::parse("arn:aws:iam::123456789012:user/r&d/svc+deploy=bot@corp.example").unwrap();
        assert_eq!(
            a,
            Arn {
                partition: "aws",
                service: "iam",
                region: "",
                account_id: "123456789012",
                resource: "user/r&d/svc+deploy=bot@corp.example",
            }
        );
        let cn = Arn::parse("arn:aws-cn:iam::210987654321:user/ops/li").unwrap();
        assert_eq!((cn.partition, cn.account_id), ("aws-cn", "210987654321"));
        let gov = Arn::parse("arn:aws-us-gov:iam::111122223333:group/Admins").unwrap();
        assert_eq!(
            (gov.partition, gov.account_id),
            ("aws-us-gov", "111122223333")
        );
    }

    #[test]
    fn not_arns() {
        assert_eq!(Arn::parse("AIDAI23HZ27SI6FQMGNHQ"), None);
        assert_eq!(Arn::parse("arn:aws:iam::12345:user/x"), None);
        assert_eq!(Arn::parse("arn:aws:iam"), None);
        assert_eq!(Arn::parse("arn::iam::123456789012:user/x"), None);
    }
}
