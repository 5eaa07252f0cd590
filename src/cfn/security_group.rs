//! Security-group rules as types: the inline `SecurityGroupIngress` / `SecurityGroupEgress`
//! entries of `AWS::EC2::SecurityGroup` and the standalone rule resources. The compiler
//! builds them; the plan reads them back to say what opens or closes (EC2 user guide,
//! "Security group rules"; CloudFormation `AWS::EC2::SecurityGroup` Ingress and Egress).

use super::{CfnError, Expr, ExprMap, ToExpr};

/// Inbound or outbound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleDirection {
    /// `SecurityGroupIngress`: traffic from the peer.
    Ingress,
    /// `SecurityGroupEgress`: traffic to the peer.
    Egress,
}

impl RuleDirection {
    /// `ingress` or `egress`.
    #[must_use]
    pub fn word(self) -> &'static str {
        match self {
            Self::Ingress => "ingress",
            Self::Egress => "egress",
        }
    }
}

/// The other end of a rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Peer {
    /// `CidrIp`: an IPv4 range.
    Cidr(Expr),
    /// `CidrIpv6`: an IPv6 range.
    CidrIpv6(Expr),
    /// `SourceSecurityGroupId` / `DestinationSecurityGroupId`: another group.
    Group(Expr),
    /// `SourcePrefixListId` / `DestinationPrefixListId`: a managed prefix list.
    PrefixList(Expr),
}

impl Peer {
    /// The property naming this peer in a rule of `direction`.
    #[must_use]
    pub fn key(&self, direction: RuleDirection) -> &'static str {
        match (self, direction) {
            (Self::Cidr(_), _) => "CidrIp",
            (Self::CidrIpv6(_), _) => "CidrIpv6",
            (Self::Group(_), RuleDirection::Ingress) => "SourceSecurityGroupId",
            (Self::Group(_), RuleDirection::Egress) => "DestinationSecurityGroupId",
            (Self::PrefixList(_), RuleDirection::Ingress) => "SourcePrefixListId",
            (Self::PrefixList(_), RuleDirection::Egress) => "DestinationPrefixListId",
        }
    }

    /// The range, group or prefix list.
    #[must_use]
    pub fn value(&self) -> &Expr {
        match self {
            Self::Cidr(v) | Self::CidrIpv6(v) | Self::Group(v) | Self::PrefixList(v) => v,
        }
    }

    /// Whether the peer is every address (`0.0.0.0/0` or `::/0`).
    #[must_use]
    pub fn is_anywhere(&self) -> bool {
        matches!(self, Self::Cidr(Expr::Str(c)) if c == "0.0.0.0/0")
            || matches!(self, Self::CidrIpv6(Expr::Str(c)) if c == "::/0")
    }
}

/// The CIDR of the rule that allows no traffic at all (a broadcast address no packet comes
/// from or goes to): sandboxc writes it to replace the default allow-all egress rule.
pub const NO_TRAFFIC_CIDR: &str = "255.255.255.255/32";

/// One security-group rule.
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityGroupRule {
    /// Inbound or outbound.
    pub direction: RuleDirection,
    /// `IpProtocol`: `tcp`, `udp`, `icmp`, `-1` (all) or a protocol number.
    pub protocol: Option<Expr>,
    /// `FromPort` (ICMP: the type).
    pub from_port: Option<Expr>,
    /// `ToPort` (ICMP: the code).
    pub to_port: Option<Expr>,
    /// The other end; a peer of each kind that the rule also names is kept in [`Self::other`].
    pub peer: Option<Peer>,
    /// `Description`.
    pub description: Option<Expr>,
    /// Any other property, as written (`SourceSecurityGroupOwnerId`; `GroupId` of a
    /// standalone rule resource).
    pub other: ExprMap,
}

/// Peer properties in the order a rule's peer is chosen when it names more than one.
const PEER_KEYS: [&str; 6] = [
    "CidrIp",
    "CidrIpv6",
    "SourceSecurityGroupId",
    "DestinationSecurityGroupId",
    "SourcePrefixListId",
    "DestinationPrefixListId",
];

impl SecurityGroupRule {
    /// A rule of `protocol` (`tcp`, `icmp`...) over ports `from..=to` with `peer`.
    #[must_use]
    pub fn new(direction: RuleDirection, protocol: &str, from: i64, to: i64, peer: Peer) -> Self {
        Self {
            direction,
            protocol: Some(Expr::from(protocol)),
            from_port: Some(Expr::Int(from)),
            to_port: Some(Expr::Int(to)),
            peer: Some(peer),
            description: None,
            other: ExprMap::new(),
        }
    }

    /// Sets the description.
    #[must_use]
    pub fn described(mut self, description: impl Into<String>) -> Self {
        self.description = Some(Expr::from(description.into()));
        self
    }

    /// Whether this is the rule that allows no traffic ([`NO_TRAFFIC_CIDR`]).
    #[must_use]
    pub fn is_no_traffic(&self) -> bool {
        matches!(&self.peer, Some(Peer::Cidr(Expr::Str(c))) if c == NO_TRAFFIC_CIDR)
    }

    /// Reads a rule of `direction` from its properties.
    ///
    /// # Errors
    /// [`CfnError::Malformed`] when `rule` is not a mapping.
    pub fn from_expr(direction: RuleDirection, rule: &Expr) -> Result<Self, CfnError> {
        let m = rule.as_map().ok_or_else(|| CfnError::Malformed {
            at: format!("Security group {} rule", direction.word()),
            problem: "a rule is a mapping with IpProtocol".into(),
        })?;
        let mut other = m.clone();
        let protocol = other.remove("IpProtocol");
        let from_port = other.remove("FromPort");
        let to_port = other.remove("ToPort");
        let description = other.remove("Description");
        let key = PEER_KEYS.into_iter().find(|k| other.contains_key(k));
        let peer = key.and_then(|k| other.remove(k).map(|v| (k, v))).map(|(k, v)| match k {
            "CidrIp" => Peer::Cidr(v),
            "CidrIpv6" => Peer::CidrIpv6(v),
            "SourceSecurityGroupId" | "DestinationSecurityGroupId" => Peer::Group(v),
            _ => Peer::PrefixList(v),
        });
        Ok(Self { direction, protocol, from_port, to_port, peer, description, other })
    }
}

impl ToExpr for SecurityGroupRule {
    fn to_expr(&self) -> Expr {
        let mut m = self.other.clone();
        for (key, v) in [
            ("IpProtocol", &self.protocol),
            ("FromPort", &self.from_port),
            ("ToPort", &self.to_port),
            ("Description", &self.description),
        ] {
            if let Some(v) = v {
                m.insert(key.into(), v.clone());
            }
        }
        if let Some(p) = &self.peer {
            m.insert(p.key(self.direction).into(), p.value().clone());
        }
        Expr::Map(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::{LogicalId, Scope};
    use serde_json::json;

    #[test]
    fn rules_round_trip() {
        let vpc = LogicalId::new("Vpc");
        for rule in [
            SecurityGroupRule::new(
                RuleDirection::Ingress,
                "tcp",
                443,
                443,
                Peer::Cidr(Expr::get_att(&vpc, "CidrBlock")),
            )
            .described("HTTPS from inside the VPC"),
            SecurityGroupRule::new(RuleDirection::Egress, "icmp", 252, 86, Peer::Cidr(Expr::from(NO_TRAFFIC_CIDR))),
            SecurityGroupRule::new(RuleDirection::Egress, "tcp", 1, 2, Peer::Group(Expr::from("sg-1"))),
            SecurityGroupRule::new(RuleDirection::Ingress, "-1", 0, 0, Peer::PrefixList(Expr::from("pl-1"))),
        ] {
            let e = rule.to_expr();
            assert_eq!(SecurityGroupRule::from_expr(rule.direction, &e), Ok(rule.clone()));
            assert_eq!(Expr::parse(&e.to_value(), &Scope::new(["Vpc"], Vec::<String>::new())), e);
        }
    }

    #[test]
    fn written_rules_are_read() {
        let e = Expr::parse(
            &json!({"IpProtocol": "tcp", "FromPort": "22", "ToPort": 22, "CidrIp": "0.0.0.0/0", "SourceSecurityGroupOwnerId": "1"}),
            &Scope::empty(),
        );
        let r = SecurityGroupRule::from_expr(RuleDirection::Ingress, &e).unwrap_or_else(|e| panic!("{e}"));
        assert!(r.peer.as_ref().is_some_and(Peer::is_anywhere));
        assert_eq!(r.from_port, Some(Expr::from("22")));
        assert_eq!(r.other.keys().collect::<Vec<_>>(), ["SourceSecurityGroupOwnerId"]);
        assert_eq!(r.to_expr(), e);
        assert!(SecurityGroupRule::from_expr(RuleDirection::Egress, &Expr::from("x")).is_err());
    }
}
