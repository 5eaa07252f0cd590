//! Security-relevant changes: IAM statements added, removed, widened or narrowed (role trust
//! including SAML, inline and managed policies, key, bucket, endpoint and queue policies,
//! Lambda permissions), security-group rules, AppStream user settings and fleet flags,
//! notebook network and root flags, VPC endpoints, and auditing (trail, flow logs, usage
//! reports, log retention). Relaxations are marked as such.

use std::collections::{BTreeMap, BTreeSet};

use super::diff::Compared;
use super::model::{Action, Direction, SecurityCategory as Cat, SecurityChange};
use super::render::compact_expr;
use super::resolve::{canonical, same};
use crate::cfn::policy::{Effect, PolicyDocument, Statement};
use crate::cfn::security_group::{Peer, RuleDirection, SecurityGroupRule};
use crate::cfn::{CfnError, Expr, Resource, Sub, SubPart, ToExpr};

struct Ctx<'c> {
    stack: &'c str,
    id: &'c str,
    rtype: &'c str,
    out: &'c mut Vec<SecurityChange>,
}

impl Ctx<'_> {
    fn push(&mut self, category: Cat, direction: Direction, summary: String) {
        self.out.push(SecurityChange {
            stack: self.stack.to_string(),
            logical_id: self.id.to_string(),
            resource_type: self.rtype.to_string(),
            category,
            direction,
            summary,
        });
    }
}

/// Every security-relevant change of the compared templates, relaxations first.
#[must_use]
pub fn analyze(compared: &[Compared<'_>]) -> Vec<SecurityChange> {
    let mut out = Vec::new();
    for c in compared {
        for r in &c.diff.resources {
            let old = if r.action == Action::Add { None } else { c.old_resource(&r.logical_id) };
            let new = if r.action == Action::Remove { None } else { c.new_resource(&r.logical_id) };
            let mut ctx = Ctx { stack: &c.diff.stack, id: &r.logical_id, rtype: &r.resource_type, out: &mut out };
            resource(&mut ctx, old, new);
        }
    }
    out.sort_by(|a, b| (a.direction, &a.stack, &a.logical_id).cmp(&(b.direction, &b.stack, &b.logical_id)));
    out
}

fn prop<'v>(r: Option<&'v Resource>, name: &str) -> Option<&'v Expr> {
    r.and_then(|r| r.properties.get(name))
}

/// Whether two optional values differ (absent counts as `null`).
fn differs(a: Option<&Expr>, b: Option<&Expr>) -> bool {
    !same(a.unwrap_or(&Expr::Null), b.unwrap_or(&Expr::Null))
}

fn resource(ctx: &mut Ctx<'_>, old: Option<&Resource>, new: Option<&Resource>) {
    let rtype = ctx.rtype.to_string();
    // Policy documents.
    let (mut od, mut nd) = (documents(&rtype, old), documents(&rtype, new));
    // Inline policies renamed (named after the environment) pair up in order.
    let only_old: Vec<String> =
        od.keys().filter(|k| k.starts_with("inline policy ") && !nd.contains_key(*k)).cloned().collect();
    let only_new: Vec<String> =
        nd.keys().filter(|k| k.starts_with("inline policy ") && !od.contains_key(*k)).cloned().collect();
    if !only_old.is_empty() && only_old.len() == only_new.len() {
        for (o, n) in only_old.iter().zip(&only_new) {
            let label = format!("{o} (renamed {})", n.trim_start_matches("inline policy "));
            if let (Some(a), Some(b)) = (od.remove(o), nd.remove(n)) {
                od.insert(label.clone(), a);
                nd.insert(label, b);
            }
        }
    }
    let names: BTreeSet<&String> = od.keys().chain(nd.keys()).collect();
    for name in names {
        let (category, label) = match name.as_str() {
            "trust policy" => {
                let saml = [od.get(name), nd.get(name)].into_iter().flatten().any(|d| trusts_saml(d));
                (
                    if saml { Cat::SamlTrust } else { Cat::Trust },
                    if saml { "SAML trust policy".to_string() } else { name.clone() },
                )
            }
            "key policy" => (Cat::KeyPolicy, name.clone()),
            "bucket policy" => (Cat::BucketPolicy, name.clone()),
            "endpoint policy" => (Cat::EndpointPolicy, name.clone()),
            "queue policy" => (Cat::QueuePolicy, name.clone()),
            _ => (Cat::Iam, name.clone()),
        };
        statements(ctx, category, &label, od.get(name).copied(), nd.get(name).copied());
    }
    match rtype.as_str() {
        "AWS::IAM::Role" => {
            let arns = |r: Option<&Resource>| -> BTreeSet<String> { prop(r, "ManagedPolicyArns").and_then(Expr::as_list).into_iter().flatten().map(|v| compact_expr(v, 200)).collect() };
            let (o, n) = (arns(old), arns(new));
            for a in n.difference(&o) {
                ctx.push(Cat::Iam, Direction::Relaxed, format!("managed policy attached: {a}"));
            }
            for a in o.difference(&n) {
                ctx.push(Cat::Iam, Direction::Tightened, format!("managed policy detached: {a}"));
            }
        }
        "AWS::Lambda::Permission" => {
            let show = |r: &Resource| {
                let p = |k: &str| prop(Some(r), k).map_or_else(|| "-".to_string(), |v| compact_expr(v, 120));
                format!("{} may call {} on {} (source account {}, source {})", p("Principal"), p("Action"), p("FunctionName"), p("SourceAccount"), p("SourceArn"))
            };
            match (old, new) {
                (None, Some(n)) => ctx.push(Cat::LambdaPermission, Direction::Relaxed, format!("permission added: {}", show(n))),
                (Some(o), None) => ctx.push(Cat::LambdaPermission, Direction::Tightened, format!("permission removed: {}", show(o))),
                (Some(o), Some(n)) if !same(&Expr::Map(o.properties.clone()), &Expr::Map(n.properties.clone())) => {
                    let dropped = ["SourceAccount", "SourceArn"].iter().any(|k| prop(Some(o), k).is_some() && prop(Some(n), k).is_none());
                    ctx.push(Cat::LambdaPermission, if dropped { Direction::Relaxed } else { Direction::Changed }, format!("permission changed: {} -> {}", show(o), show(n)));
                }
                _ => {}
            }
        }
        "AWS::EC2::SecurityGroup" => {
            for (key, direction) in
                [("SecurityGroupIngress", RuleDirection::Ingress), ("SecurityGroupEgress", RuleDirection::Egress)]
            {
                let dir = direction.word();
                let rules = |r: Option<&Resource>| -> BTreeMap<String, SecurityGroupRule> {
                    prop(r, key)
                        .and_then(Expr::as_list)
                        .into_iter()
                        .flatten()
                        .filter_map(|rule| SecurityGroupRule::from_expr(direction, rule).ok())
                        .map(|rule| (rule_key(&rule), rule))
                        .collect()
                };
                let (o, n) = (rules(old), rules(new));
                for rule in n.iter().filter(|(k, _)| !o.contains_key(*k)).map(|(_, r)| r) {
                    if rule.is_no_traffic() {
                        ctx.push(Cat::SecurityGroup, Direction::Tightened, "egress limited to the placeholder rule (ICMP to 255.255.255.255/32): no outbound traffic".to_string());
                    } else {
                        let open = if rule.peer.as_ref().is_some_and(Peer::is_anywhere) { " (open to any address)" } else { "" };
                        ctx.push(Cat::SecurityGroup, Direction::Relaxed, format!("{dir} rule added: {}{open}", rule_text(rule)));
                    }
                }
                for rule in o.iter().filter(|(k, _)| !n.contains_key(*k)).map(|(_, r)| r) {
                    if rule.is_no_traffic() {
                        ctx.push(Cat::SecurityGroup, Direction::Relaxed, "placeholder egress rule removed (ICMP to 255.255.255.255/32, which allowed no outbound traffic)".to_string());
                    } else {
                        ctx.push(Cat::SecurityGroup, Direction::Tightened, format!("{dir} rule removed: {}", rule_text(rule)));
                    }
                }
                if direction == RuleDirection::Egress && old.is_none() && new.is_some() && prop(new, key).is_none() {
                    ctx.push(Cat::SecurityGroup, Direction::Relaxed, "new security group without egress rules: it allows all outbound traffic".into());
                }
                if direction == RuleDirection::Egress && old.is_some() && new.is_some() && prop(old, key).is_some() && prop(new, key).is_none() {
                    ctx.push(Cat::SecurityGroup, Direction::Relaxed, "egress rules removed entirely: a security group without egress rules allows all outbound traffic".into());
                }
            }
        }
        "AWS::EC2::SecurityGroupIngress" | "AWS::EC2::SecurityGroupEgress" => {
            let direction = if rtype.ends_with("Ingress") { RuleDirection::Ingress } else { RuleDirection::Egress };
            let dir = direction.word();
            let text = |r: &Resource| {
                let rule = SecurityGroupRule::from_expr(direction, &Expr::Map(r.properties.clone()))
                    .map_or_else(|_| String::new(), |rule| rule_text(&rule));
                format!("{rule} on {}", prop(Some(r), "GroupId").map_or_else(String::new, |v| compact_expr(v, 100)))
            };
            match (old, new) {
                (None, Some(n)) => ctx.push(Cat::SecurityGroup, Direction::Relaxed, format!("{dir} rule added: {}", text(n))),
                (Some(o), None) => ctx.push(Cat::SecurityGroup, Direction::Tightened, format!("{dir} rule removed: {}", text(o))),
                (Some(o), Some(n)) if text(o) != text(n) => ctx.push(Cat::SecurityGroup, Direction::Changed, format!("{dir} rule changed: {} -> {}", text(o), text(n))),
                _ => {}
            }
        }
        "AWS::AppStream::Stack" => user_settings(ctx, old, new),
        "AWS::AppStream::Fleet" if old.is_some() && new.is_some() => {
            flag(ctx, Cat::Fleet, old, new, "EnableDefaultInternetAccess", "false", "default internet access for streaming instances");
            flag(ctx, Cat::Fleet, old, new, "DisableIMDSV1", "true", "IMDSv1 disabled on streaming instances");
            if differs(prop(old, "IamRoleArn"), prop(new, "IamRoleArn")) {
                ctx.push(Cat::Fleet, Direction::Changed, format!("fleet role changes: {} -> {}", show_opt(prop(old, "IamRoleArn")), show_opt(prop(new, "IamRoleArn"))));
            }
            let get = |r: Option<&Resource>, name: &str| prop(r, name).and_then(seconds);
            for (name, what, zero_is_off) in [
                ("MaxUserDurationInSeconds", "longest streaming session", false),
                ("DisconnectTimeoutInSeconds", "a disconnected session is kept for", false),
                ("IdleDisconnectTimeoutInSeconds", "an idle session is disconnected after", true),
            ] {
                session_length(ctx, Cat::Fleet, &format!("{name} ({what})"), get(old, name), get(new, name), zero_is_off);
            }
        }
        "AWS::Lambda::Function" if old.is_some() && new.is_some() => {
            let expiration = |r: Option<&Resource>| {
                prop(r, "Environment")
                    .and_then(|e| e.get("Variables"))
                    .and_then(|v| v.get(sandboxc_contract::validator::ENV_SESSION_EXPIRATION_SECONDS))
                    .and_then(seconds)
            };
            session_length(ctx, Cat::Notebook, "notebook session length (the pre-signed notebook URL's SessionExpirationDurationInSeconds)", expiration(old), expiration(new), false);
        }
        "AWS::SageMaker::NotebookInstance" => notebook(ctx, old, new),
        "AWS::EC2::VPCEndpoint" => {
            let service = |r: &Resource| prop(Some(r), "ServiceName").map_or_else(|| "?".to_string(), |v| compact_expr(v, 120));
            match (old, new) {
                (None, Some(n)) => ctx.push(Cat::Endpoint, Direction::Relaxed, format!("VPC endpoint added: {} (a new path from the VPC to this service)", service(n))),
                (Some(o), None) => ctx.push(Cat::Endpoint, Direction::Tightened, format!("VPC endpoint removed: {}", service(o))),
                (Some(o), Some(n)) => {
                    if prop(Some(o), "PolicyDocument").is_some() && prop(Some(n), "PolicyDocument").is_none() {
                        ctx.push(Cat::EndpointPolicy, Direction::Relaxed, format!("endpoint policy removed from {}: the endpoint allows full access", service(n)));
                    }
                    if differs(prop(old, "PrivateDnsEnabled"), prop(new, "PrivateDnsEnabled")) {
                        ctx.push(Cat::Endpoint, Direction::Changed, format!("private DNS of {} changes: {} -> {}", service(n), show_opt(prop(old, "PrivateDnsEnabled")), show_opt(prop(new, "PrivateDnsEnabled"))));
                    }
                }
                (None, None) => {}
            }
        }
        "AWS::CloudTrail::Trail" => trail(ctx, old, new),
        "AWS::EC2::FlowLog" => match (old, new) {
            (Some(_), None) => ctx.push(Cat::Logging, Direction::Relaxed, "VPC flow log removed: network traffic is no longer recorded".into()),
            (None, Some(_)) => ctx.push(Cat::Logging, Direction::Tightened, "VPC flow log added".into()),
            _ => {}
        },
        sandboxc_contract::custom_resource::USAGE_REPORT_SUBSCRIPTION => match (old, new) {
            (Some(_), None) => ctx.push(
                Cat::Logging,
                Direction::Relaxed,
                "AppStream usage-report subscription removed from the template (the provider keeps the Region's subscription on delete; unsubscribe is manual)".into(),
            ),
            (None, Some(_)) => ctx.push(Cat::Logging, Direction::Tightened, "AppStream usage-report subscription added".into()),
            _ => {}
        },
        "AWS::Logs::SubscriptionFilter" => subscription(ctx, old, new),
        "AWS::Logs::LogGroup" if old.is_some() && new.is_some() => {
            let days = |r: Option<&Resource>| {
                prop(r, "RetentionInDays").and_then(|v| match v {
                    Expr::Int(n) => Some(*n),
                    Expr::Str(s) => s.parse::<i64>().ok(),
                    _ => None,
                })
            };
            match (days(old), days(new)) {
                (Some(o), Some(n)) if n < o => ctx.push(Cat::Logging, Direction::Relaxed, format!("log retention shortened: {o} -> {n} days")),
                (Some(o), Some(n)) if n > o => ctx.push(Cat::Logging, Direction::Tightened, format!("log retention lengthened: {o} -> {n} days")),
                (Some(o), None) => ctx.push(Cat::Logging, Direction::Changed, format!("log retention removed ({o} days -> never expire)")),
                _ => {}
            }
            if prop(old, "KmsKeyId").is_some() && prop(new, "KmsKeyId").is_none() {
                ctx.push(Cat::Encryption, Direction::Relaxed, "log group no longer encrypted with a customer managed KMS key".into());
            }
        }
        "AWS::KMS::Key" if old.is_some() && new.is_some() => flag(ctx, Cat::Encryption, old, new, "EnableKeyRotation", "true", "automatic key rotation"),
        "AWS::S3::Bucket" if old.is_some() && new.is_some() => {
            for k in ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"] {
                let get = |r: Option<&Resource>| prop(r, "PublicAccessBlockConfiguration").and_then(|p| p.get(k)).map(|v| canonical(v) == Expr::from("true"));
                if get(old) == Some(true) && get(new) != Some(true) {
                    ctx.push(Cat::Bucket, Direction::Relaxed, format!("public access block {k} turned off"));
                }
            }
            if differs(prop(old, "BucketEncryption"), prop(new, "BucketEncryption")) {
                ctx.push(Cat::Encryption, Direction::Changed, format!("bucket encryption changes: {} -> {}", show_opt(prop(old, "BucketEncryption")), show_opt(prop(new, "BucketEncryption"))));
            }
            object_lock(ctx, old, new);
            let versioning = |r: Option<&Resource>| prop(r, "VersioningConfiguration").and_then(|v| v.get("Status")).and_then(Expr::as_str).map(str::to_string);
            if versioning(old).as_deref() == Some("Enabled") && versioning(new).as_deref() != Some("Enabled") {
                ctx.push(Cat::Bucket, Direction::Relaxed, "bucket versioning no longer enabled: overwritten or deleted objects cannot be recovered".into());
            }
        }
        _ => {}
    }
}

/// S3 Object Lock's default retention of a bucket (`ObjectLockConfiguration.Rule.DefaultRetention`,
/// `Days` or `Years`; AWS::S3::Bucket DefaultRetention): shortened or removed, objects written
/// from then on may be deleted sooner (relaxed). A year counts 365 days for the comparison.
fn object_lock(ctx: &mut Ctx<'_>, old: Option<&Resource>, new: Option<&Resource>) {
    let days = |r: Option<&Resource>| -> Option<i64> {
        let retention = prop(r, "ObjectLockConfiguration")?.get("Rule")?.get("DefaultRetention")?;
        let number = |key: &str| match retention.get(key)? {
            Expr::Int(n) => Some(*n),
            Expr::Str(s) => s.parse::<i64>().ok(),
            _ => None,
        };
        number("Days").or_else(|| number("Years").map(|y| y * 365))
    };
    match (days(old), days(new)) {
        (Some(o), Some(n)) if n < o => ctx.push(
            Cat::Logging,
            Direction::Relaxed,
            format!("S3 Object Lock default retention shortened: {o} -> {n} days (objects written from now on may be deleted sooner)"),
        ),
        (Some(o), Some(n)) if n > o => ctx.push(
            Cat::Logging,
            Direction::Tightened,
            format!("S3 Object Lock default retention lengthened: {o} -> {n} days"),
        ),
        (Some(o), None) => ctx.push(
            Cat::Logging,
            Direction::Relaxed,
            format!("S3 Object Lock default retention removed (was {o} days): new objects are no longer locked"),
        ),
        (None, Some(n)) => ctx.push(Cat::Logging, Direction::Tightened, format!("S3 Object Lock default retention set: {n} days")),
        _ => {}
    }
}

/// A whole number of seconds written as a number or a string; `None` for anything else (an
/// intrinsic function: no comparison is made).
/// A CloudWatch Logs subscription filter copies a log group's events to a destination (the
/// validator's decisions to their Firehose stream): a new copy of what the logs hold, or one
/// that goes elsewhere, is named with its source and destination.
fn subscription(ctx: &mut Ctx<'_>, old: Option<&Resource>, new: Option<&Resource>) {
    let flow = |r: Option<&Resource>| {
        format!(
            "events of log group {} (filter pattern {}) to {}",
            show_opt(prop(r, "LogGroupName")),
            show_opt(prop(r, "FilterPattern")),
            show_opt(prop(r, "DestinationArn"))
        )
    };
    match (old, new) {
        (None, Some(_)) => {
            ctx.push(Cat::Logging, Direction::Changed, format!("log subscription added: copies the {}", flow(new)))
        }
        (Some(_), None) => ctx.push(
            Cat::Logging,
            Direction::Relaxed,
            format!("log subscription removed: no longer copies the {}", flow(old)),
        ),
        (Some(_), Some(_)) if flow(old) != flow(new) => {
            ctx.push(
                Cat::Logging,
                Direction::Changed,
                format!("log subscription changed: copied the {}; now copies the {}", flow(old), flow(new)),
            );
        }
        _ => {}
    }
}

fn seconds(v: &Expr) -> Option<i64> {
    match v {
        Expr::Int(n) => Some(*n),
        Expr::Str(s) => s.parse().ok(),
        _ => None,
    }
}

/// A session time limit that changes: longer is a relaxation (a session, or an unattended one,
/// stays usable longer), shorter a tightening. With `zero_is_off`, 0 turns the limit off (the
/// longest of all: AppStream's IdleDisconnectTimeoutInSeconds). Nothing when either side is
/// unknown or both are equal.
fn session_length(ctx: &mut Ctx<'_>, category: Cat, what: &str, old: Option<i64>, new: Option<i64>, zero_is_off: bool) {
    let (Some(o), Some(n)) = (old, new) else { return };
    let rank = |v: i64| if zero_is_off && v == 0 { i64::MAX } else { v };
    let show = |v: i64| if zero_is_off && v == 0 { "0 (off)".to_string() } else { format!("{v}") };
    let direction = match rank(n).cmp(&rank(o)) {
        std::cmp::Ordering::Greater => Direction::Relaxed,
        std::cmp::Ordering::Less => Direction::Tightened,
        std::cmp::Ordering::Equal => return,
    };
    let verb = if direction == Direction::Relaxed { "longer" } else { "shorter" };
    ctx.push(category, direction, format!("{what} {verb}: {} -> {} seconds", show(o), show(n)));
}

fn show_opt(v: Option<&Expr>) -> String {
    v.map_or_else(|| "(absent)".to_string(), |v| compact_expr(v, 160))
}

/// A boolean-ish flag whose `safe` value was set and no longer is (or the reverse).
fn flag(
    ctx: &mut Ctx<'_>,
    category: Cat,
    old: Option<&Resource>,
    new: Option<&Resource>,
    name: &str,
    safe: &str,
    what: &str,
) {
    let get =
        |r: Option<&Resource>| prop(r, name).map(|v| compact_expr(&canonical(v), 40).trim_matches('"').to_string());
    let (o, n) = (get(old), get(new));
    if o == n {
        return;
    }
    let safe_before = o.as_deref() == Some(safe);
    let safe_after = n.as_deref() == Some(safe);
    let dir = match (safe_before, safe_after) {
        (true, false) => Direction::Relaxed,
        (false, true) => Direction::Tightened,
        _ => Direction::Changed,
    };
    ctx.push(
        category,
        dir,
        format!(
            "{name} ({what}): {} -> {}",
            o.unwrap_or_else(|| "(absent)".into()),
            n.unwrap_or_else(|| "(absent)".into())
        ),
    );
}

fn documents<'v>(rtype: &str, r: Option<&'v Resource>) -> BTreeMap<String, &'v Expr> {
    let mut out = BTreeMap::new();
    let Some(r) = r else { return out };
    let p = |k: &str| r.properties.get(k);
    match rtype {
        "AWS::IAM::Role" => {
            if let Some(d) = p("AssumeRolePolicyDocument") {
                out.insert("trust policy".into(), d);
            }
            for (i, pol) in p("Policies").and_then(Expr::as_list).into_iter().flatten().enumerate() {
                let name = pol.get("PolicyName").and_then(Expr::as_str).map_or_else(|| format!("#{i}"), str::to_string);
                if let Some(d) = pol.get("PolicyDocument") {
                    out.insert(format!("inline policy {name}"), d);
                }
            }
        }
        "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" | "AWS::IAM::RolePolicy" => {
            if let Some(d) = p("PolicyDocument") {
                let name = p("PolicyName").and_then(Expr::as_str).unwrap_or("policy");
                out.insert(format!("policy {name}"), d);
            }
        }
        "AWS::KMS::Key" => {
            if let Some(d) = p("KeyPolicy") {
                out.insert("key policy".into(), d);
            }
        }
        "AWS::S3::BucketPolicy" => {
            if let Some(d) = p("PolicyDocument") {
                out.insert("bucket policy".into(), d);
            }
        }
        "AWS::EC2::VPCEndpoint" => {
            if let Some(d) = p("PolicyDocument") {
                out.insert("endpoint policy".into(), d);
            }
        }
        "AWS::SQS::QueuePolicy" => {
            if let Some(d) = p("PolicyDocument") {
                out.insert("queue policy".into(), d);
            }
        }
        _ => {}
    }
    out
}

/// Whether a trust policy trusts a SAML identity provider: a `Federated` principal, or an
/// IAM `saml-provider` ARN anywhere in it.
fn trusts_saml(doc: &Expr) -> bool {
    let federated = PolicyDocument::from_expr(doc)
        .is_ok_and(|d| d.statement.iter().any(|s| s.principals().iter().any(|(kind, _)| kind == "Federated")));
    federated || mentions(doc, "saml-provider")
}

/// Whether any literal text of `e` (strings, `Fn::Sub` text) contains `needle`.
fn mentions(e: &Expr, needle: &str) -> bool {
    match e {
        Expr::Str(s) => s.contains(needle),
        Expr::List(items) | Expr::Join(_, items) => items.iter().any(|x| mentions(x, needle)),
        Expr::Map(m) => m.values().any(|x| mentions(x, needle)),
        Expr::Sub(sub) => {
            sub.parts().iter().any(|p| matches!(p, SubPart::Text(t) if t.contains(needle)))
                || sub.vars().values().any(|x| mentions(x, needle))
        }
        Expr::Select(_, x) | Expr::GetAZs(x) | Expr::ImportValue(x) | Expr::Split(_, x) | Expr::Intrinsic(_, x) => {
            mentions(x, needle)
        }
        Expr::If(_, a, b) | Expr::Equals(a, b) => mentions(a, needle) || mentions(b, needle),
        Expr::Null | Expr::Bool(_) | Expr::Int(_) | Expr::Num(_) | Expr::Ref(_) | Expr::GetAtt(..) => false,
    }
}

/// A statement broken into comparable sets.
#[derive(Default)]
struct Parts {
    effect: String,
    actions: BTreeSet<String>,
    not_actions: BTreeSet<String>,
    resources: BTreeSet<String>,
    principals: BTreeSet<String>,
    conditions: BTreeSet<String>,
    /// The IAM pattern of each action, resource and principal as shown ([`pattern`]), so that
    /// coverage is judged on the text IAM matches, also inside `Fn::Sub`.
    patterns: BTreeMap<String, String>,
}

fn strings(list: &[Expr]) -> BTreeSet<String> {
    list.iter().map(|x| unquote(compact_expr(x, 200))).collect()
}

fn unquote(s: String) -> String {
    s.strip_prefix('"').and_then(|x| x.strip_suffix('"')).map_or(s.clone(), str::to_string)
}

fn parts(s: &Statement) -> Parts {
    let principals = s
        .principals()
        .into_iter()
        .map(|(kind, v)| match kind.as_str() {
            "*" => "*".to_string(),
            "" => unquote(compact_expr(&v, 200)),
            _ => format!("{kind}:{}", unquote(compact_expr(&v, 200))),
        })
        .collect();
    let mut conditions = BTreeSet::new();
    for (op, m) in &s.condition {
        for (k, v) in m {
            conditions.insert(format!("{op} {k} = {}", compact_expr(v, 160)));
        }
    }
    let mut patterns = BTreeMap::new();
    for x in s.action.iter().chain(&s.not_action).chain(&s.resource) {
        patterns.insert(unquote(compact_expr(x, 200)), pattern(x));
    }
    for (kind, v) in s.principals() {
        let shown = match kind.as_str() {
            "*" => "*".to_string(),
            "" => unquote(compact_expr(&v, 200)),
            _ => format!("{kind}:{}", unquote(compact_expr(&v, 200))),
        };
        let matched = if kind == "*" { "*".to_string() } else { format!("{kind}:{}", pattern(&v)) };
        patterns.insert(shown, matched);
    }
    Parts {
        effect: s.effect.name().to_string(),
        actions: strings(&s.action),
        not_actions: strings(&s.not_action),
        resources: strings(&s.resource),
        principals,
        conditions,
        patterns,
    }
}

/// The text IAM matches for an action, resource or principal, with its wildcards: a string as
/// it is, a `Fn::Sub` as its template string with each `${...}` standing for a fixed value
/// (the variable's value shown, or the name referenced), anything else as shown. So
/// `!Sub ["${V}/team/*", {V: X}]` is `${!Ref X}/team/*`, which `${!Ref X}/*` covers.
fn pattern(e: &Expr) -> String {
    match e {
        Expr::Str(s) => s.clone(),
        Expr::Sub(sub) => {
            let mut out = String::new();
            for part in sub.parts() {
                match part {
                    SubPart::Text(t) => out.push_str(t),
                    SubPart::Var(v) => {
                        let value = sub.vars().get(v).map_or_else(|| v.clone(), pattern);
                        out.push_str(&format!("${{{value}}}"));
                    }
                    other => {
                        let one = Sub::new(vec![other.clone()], crate::cfn::ExprMap::new());
                        out.push_str(&one.text());
                    }
                }
            }
            out
        }
        other => unquote(compact_expr(other, 10_000)),
    }
}

/// Whether IAM pattern `wide` matches every string pattern `narrow` matches: `*` in `wide`
/// matches any run of characters (also a `*` of `narrow`), `?` any one character; other
/// characters match themselves. A `*` or `?` in `narrow` needs a wildcard in `wide`.
fn glob_covers(wide: &str, narrow: &str) -> bool {
    let (w, n): (Vec<char>, Vec<char>) = (wide.chars().collect(), narrow.chars().collect());
    // matched[j]: wide[..i] covers narrow[..j].
    let mut matched = vec![false; n.len() + 1];
    matched[0] = true;
    for &wc in &w {
        let mut next = vec![false; n.len() + 1];
        match wc {
            '*' => {
                let mut any = false;
                for j in 0..=n.len() {
                    any = any || matched[j];
                    next[j] = any;
                }
            }
            _ => {
                for j in 0..n.len() {
                    let fits = if wc == '?' { n[j] != '*' } else { n[j] == wc };
                    next[j + 1] = matched[j] && fits;
                }
            }
        }
        matched = next;
    }
    matched[n.len()]
}

fn describe(s: &Statement) -> String {
    let p = parts(s);
    let mut text = format!("{} {}", p.effect, join(&p.actions));
    if !p.not_actions.is_empty() {
        text.push_str(&format!(" except {}", join(&p.not_actions)));
    }
    if !p.principals.is_empty() {
        text.push_str(&format!(" by {}", join(&p.principals)));
    }
    if !p.resources.is_empty() {
        text.push_str(&format!(" on {}", join(&p.resources)));
    }
    if !p.conditions.is_empty() {
        text.push_str(&format!(" when {}", p.conditions.iter().cloned().collect::<Vec<_>>().join(" and ")));
    }
    text
}

fn join(s: &BTreeSet<String>) -> String {
    s.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// The statements of a document, each keyed by its `Sid` (else by its whole text), with the
/// statement as written (for equality) and as read.
fn statement_list(doc: Option<&Expr>) -> Result<BTreeMap<String, (Expr, Statement)>, CfnError> {
    let Some(doc) = doc else { return Ok(BTreeMap::new()) };
    let read = PolicyDocument::from_expr(doc)?;
    let written: Vec<Expr> = match doc.get("Statement") {
        Some(Expr::List(items)) => items.clone(),
        Some(one) => vec![one.clone()],
        None => Vec::new(),
    };
    Ok(written
        .into_iter()
        .zip(read.statement)
        .map(|(raw, s)| {
            let key = s.sid.clone().unwrap_or_else(|| compact_expr(&canonical(&raw), 10_000));
            (key, (raw, s))
        })
        .collect())
}

/// Whether an element of `set` grants at least what `item` grants: equal, or (for actions,
/// resources and principals, whose IAM patterns are in `patterns`) a wildcard pattern that
/// covers it ([`glob_covers`]); other items (conditions) by a trailing `*`.
fn covers(set: &BTreeSet<String>, item: &str, patterns: &BTreeMap<String, String>) -> bool {
    let pat = |x: &str| patterns.get(x).cloned();
    set.contains(item)
        || set.iter().any(|p| match (pat(p), pat(item)) {
            (Some(wide), Some(narrow)) => glob_covers(&wide, &narrow),
            _ => p == "*" || (p.ends_with('*') && item.starts_with(&p[..p.len() - 1])),
        })
}

fn statements(ctx: &mut Ctx<'_>, category: Cat, label: &str, old: Option<&Expr>, new: Option<&Expr>) {
    let (o, n) = match (statement_list(old), statement_list(new)) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(e), _) | (_, Err(e)) => {
            if differs(old, new) {
                ctx.push(
                    category,
                    Direction::Changed,
                    format!("{label}: policy document changed (not readable as IAM statements: {e})"),
                );
            }
            return;
        }
    };
    let sid = |k: &str| if k.starts_with('{') { String::new() } else { format!(" {k}") };
    for (k, (raw, s)) in &n {
        match o.get(k) {
            None => {
                let allow = s.effect != Effect::Deny;
                ctx.push(
                    category,
                    if allow { Direction::Relaxed } else { Direction::Tightened },
                    format!("{label}: statement{} added: {}", sid(k), describe(s)),
                );
            }
            Some((prev_raw, prev)) if !same(prev_raw, raw) => {
                let (a, b) = (parts(prev), parts(s));
                let patterns: BTreeMap<String, String> =
                    a.patterns.iter().chain(&b.patterns).map(|(k, v)| (k.clone(), v.clone())).collect();
                let mut wider = Vec::new();
                let mut narrower = Vec::new();
                let mut list =
                    |before: &BTreeSet<String>, after: &BTreeSet<String>, what: &str, more_is_wider: bool| {
                        let added: Vec<&String> = after.iter().filter(|x| !covers(before, x, &patterns)).collect();
                        let removed: Vec<&String> = before.iter().filter(|x| !covers(after, x, &patterns)).collect();
                        let added_txt = added.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
                        let removed_txt = removed.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
                        if !added.is_empty() {
                            let t = format!("{what} + {added_txt}");
                            if more_is_wider {
                                wider.push(t)
                            } else {
                                narrower.push(t)
                            }
                        }
                        if !removed.is_empty() {
                            let t = format!("{what} - {removed_txt}");
                            if more_is_wider {
                                narrower.push(t)
                            } else {
                                wider.push(t)
                            }
                        }
                    };
                list(&a.actions, &b.actions, "actions", true);
                list(&a.not_actions, &b.not_actions, "excluded actions", false);
                list(&a.resources, &b.resources, "resources", true);
                list(&a.principals, &b.principals, "principals", true);
                list(&a.conditions, &b.conditions, "conditions", false);
                let deny = s.effect == Effect::Deny;
                let effect_changed = prev.effect != s.effect;
                let dir = if effect_changed {
                    if deny {
                        Direction::Tightened
                    } else {
                        Direction::Relaxed
                    }
                } else {
                    match (wider.is_empty(), narrower.is_empty()) {
                        (false, true) => {
                            if deny {
                                Direction::Tightened
                            } else {
                                Direction::Relaxed
                            }
                        }
                        (true, false) => {
                            if deny {
                                Direction::Relaxed
                            } else {
                                Direction::Tightened
                            }
                        }
                        _ => Direction::Changed,
                    }
                };
                let verb = match dir {
                    Direction::Relaxed => "widened",
                    Direction::Tightened => "narrowed",
                    Direction::Changed => "changed",
                };
                let mut detail: Vec<String> = wider.into_iter().chain(narrower).collect();
                if effect_changed {
                    detail.insert(0, format!("effect {} -> {}", a.effect, b.effect));
                }
                if detail.is_empty() {
                    detail.push(format!("{} -> {}", describe(prev), describe(s)));
                }
                ctx.push(category, dir, format!("{label}: statement{} {verb}: {}", sid(k), detail.join("; ")));
            }
            Some(_) => {}
        }
    }
    for (k, (_, s)) in &o {
        if !n.contains_key(k) {
            let allow = s.effect != Effect::Deny;
            ctx.push(
                category,
                if allow { Direction::Tightened } else { Direction::Relaxed },
                format!("{label}: statement{} removed: {}", sid(k), describe(s)),
            );
        }
    }
}

/// A rule's identity: everything but its description.
fn rule_key(rule: &SecurityGroupRule) -> String {
    let bare = SecurityGroupRule { description: None, ..rule.clone() };
    compact_expr(&canonical(&bare.to_expr()), 10_000)
}

/// A rule for people: `tcp port 443 from 10.0.0.0/16 (HTTPS from inside the VPC)`.
fn rule_text(rule: &SecurityGroupRule) -> String {
    let g = |v: &Option<Expr>| v.as_ref().map(|v| unquote(compact_expr(v, 120)));
    let proto = g(&rule.protocol).unwrap_or_else(|| "?".into());
    let ports = match (proto.as_str(), g(&rule.from_port), g(&rule.to_port)) {
        ("icmp" | "1", Some(a), Some(b)) => format!(" type {a} code {b}"),
        (_, Some(a), Some(b)) if a == b => format!(" port {a}"),
        (_, Some(a), Some(b)) => format!(" ports {a}-{b}"),
        _ => String::new(),
    };
    let word = match rule.direction {
        RuleDirection::Egress => "to",
        RuleDirection::Ingress => "from",
    };
    let peer =
        rule.peer.as_ref().map_or_else(String::new, |p| format!("{word} {}", unquote(compact_expr(p.value(), 120))));
    let proto = if proto == "-1" { "all protocols".to_string() } else { proto };
    let described = g(&rule.description).map_or_else(String::new, |d| format!(" ({d})"));
    format!("{proto}{ports} {peer}{described}").trim().to_string()
}

fn user_settings(ctx: &mut Ctx<'_>, old: Option<&Resource>, new: Option<&Resource>) {
    if old.is_none() || new.is_none() {
        return;
    }
    let settings = |r: Option<&Resource>| -> BTreeMap<String, (String, Option<String>)> {
        prop(r, "UserSettings")
            .and_then(Expr::as_list)
            .into_iter()
            .flatten()
            .filter_map(|s| {
                let a = s.get("Action")?.as_str()?.to_string();
                let p = s.get("Permission").and_then(Expr::as_str).unwrap_or("ENABLED").to_string();
                Some((a, (p, s.get("MaximumLength").map(|v| compact_expr(v, 40)))))
            })
            .collect()
    };
    let (o, n) = (settings(old), settings(new));
    let actions: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
    // AppStream enables every action the stack does not list (AppStream API reference, UserSetting).
    let enabled = || ("ENABLED (not listed: AppStream's default)".to_string(), None);
    for a in actions {
        let before = o.get(a).cloned().unwrap_or_else(enabled);
        let after = n.get(a).cloned().unwrap_or_else(enabled);
        if before == after {
            continue;
        }
        let was = before.0.starts_with("ENABLED");
        let is = after.0.starts_with("ENABLED");
        let what = match a.as_str() {
            "FILE_DOWNLOAD" => " (users can download files from the sandbox)",
            "FILE_UPLOAD" => " (users can upload files into the sandbox)",
            "CLIPBOARD_COPY_TO_LOCAL_DEVICE" => " (users can copy text out of the sandbox)",
            "CLIPBOARD_COPY_FROM_LOCAL_DEVICE" => " (users can paste into the sandbox)",
            "PRINTING_TO_LOCAL_DEVICE" => " (users can print from the sandbox)",
            _ => "",
        };
        let dir = match (was, is) {
            (false, true) => Direction::Relaxed,
            (true, false) => Direction::Tightened,
            _ => Direction::Changed,
        };
        let note = if dir == Direction::Relaxed { what } else { "" };
        let len = |x: &(String, Option<String>)| x.1.as_ref().map_or_else(String::new, |l| format!(" max {l}"));
        ctx.push(
            Cat::UserSettings,
            dir,
            format!("user setting {a}: {}{} -> {}{}{note}", before.0, len(&before), after.0, len(&after)),
        );
    }
    let (oe, ne) = (prop(old, "AccessEndpoints"), prop(new, "AccessEndpoints"));
    match (oe, ne) {
        (None, Some(e)) => ctx.push(
            Cat::UserSettings,
            Direction::Tightened,
            format!("streaming restricted to interface endpoints: {}", compact_expr(e, 160)),
        ),
        (Some(e), None) => ctx.push(
            Cat::UserSettings,
            Direction::Relaxed,
            format!("streaming no longer restricted to interface endpoints (was {})", compact_expr(e, 160)),
        ),
        (Some(a), Some(b)) if !same(a, b) => ctx.push(
            Cat::UserSettings,
            Direction::Changed,
            format!("streaming endpoints change: {} -> {}", compact_expr(a, 120), compact_expr(b, 120)),
        ),
        _ => {}
    }
}

fn notebook(ctx: &mut Ctx<'_>, old: Option<&Resource>, new: Option<&Resource>) {
    if old.is_none() || new.is_none() {
        return;
    }
    // Both default to Enabled when absent (SageMaker API reference, CreateNotebookInstance).
    for (name, what) in [
        ("DirectInternetAccess", "direct internet access from the notebook"),
        ("RootAccess", "root access on the notebook"),
    ] {
        let get = |r: Option<&Resource>| {
            prop(r, name).map_or_else(|| "Enabled".to_string(), |v| unquote(compact_expr(v, 40)))
        };
        let (o, n) = (get(old), get(new));
        if o != n {
            let dir = match (o.as_str(), n.as_str()) {
                ("Disabled", "Enabled") => Direction::Relaxed,
                ("Enabled", "Disabled") => Direction::Tightened,
                _ => Direction::Changed,
            };
            ctx.push(Cat::Notebook, dir, format!("{name} ({what}): {o} -> {n}"));
        }
    }
    let imds = |r: Option<&Resource>| {
        prop(r, "InstanceMetadataServiceConfiguration")
            .and_then(|m| m.get("MinimumInstanceMetadataServiceVersion"))
            .map_or_else(|| "1".to_string(), |v| unquote(compact_expr(v, 10)))
    };
    let (o, n) = (imds(old), imds(new));
    if o != n {
        ctx.push(
            Cat::Notebook,
            if n < o { Direction::Relaxed } else { Direction::Tightened },
            format!("minimum IMDS version of the notebook: {o} -> {n}"),
        );
    }
}

fn trail(ctx: &mut Ctx<'_>, old: Option<&Resource>, new: Option<&Resource>) {
    match (old, new) {
        (Some(o), None) => {
            let name = prop(Some(o), "TrailName").map_or_else(String::new, |v| format!(" {}", compact_expr(v, 80)));
            let retained = o.deletion_policy.is_some_and(crate::cfn::Policy::retains);
            let what = if retained {
                "its DeletionPolicy Retain keeps the trail itself, unmanaged and still recording until someone deletes it, but nothing in the sandbox guarantees an audit trail any more"
            } else {
                "API calls and S3 data events of the sandbox are no longer recorded"
            };
            ctx.push(
                Cat::Logging,
                Direction::Relaxed,
                format!("CloudTrail trail{name} removed from the template: {what}"),
            );
        }
        (None, Some(_)) => ctx.push(Cat::Logging, Direction::Tightened, "CloudTrail trail added".into()),
        (Some(_), Some(_)) => {
            flag(ctx, Cat::Logging, old, new, "IsLogging", "true", "the trail records");
            flag(ctx, Cat::Logging, old, new, "EnableLogFileValidation", "true", "log file integrity validation");
            flag(
                ctx,
                Cat::Logging,
                old,
                new,
                "IncludeGlobalServiceEvents",
                "true",
                "global service events such as IAM",
            );
            let data = |r: Option<&Resource>| -> BTreeSet<String> {
                let mut out = BTreeSet::new();
                for sel in prop(r, "EventSelectors").and_then(Expr::as_list).into_iter().flatten() {
                    for dr in sel.get("DataResources").and_then(Expr::as_list).into_iter().flatten() {
                        for v in dr.get("Values").and_then(Expr::as_list).into_iter().flatten() {
                            out.insert(compact_expr(v, 160));
                        }
                    }
                }
                out
            };
            let (o, n) = (data(old), data(new));
            for v in o.difference(&n) {
                ctx.push(Cat::Logging, Direction::Relaxed, format!("S3 data events no longer recorded for {v}"));
            }
            for v in n.difference(&o) {
                ctx.push(Cat::Logging, Direction::Tightened, format!("S3 data events now recorded for {v}"));
            }
        }
        (None, None) => {}
    }
}

/// The grants of a stack deployed for the first time that deserve a reviewer's look, instead
/// of every statement as an addition: Allow statements with a wildcard action (`*`,
/// `service:*`; in a key policy, other than the account's own administration), an identity
/// policy on every resource (`*`), a principal `*` without conditions; security-group rules
/// open to any address (and groups that allow all outbound traffic); Lambda permissions
/// without a source; AppStream user settings that let data out of the sandbox; a fleet with
/// internet access; a notebook with internet or root access. Each is [`Direction::Relaxed`].
#[must_use]
pub fn risky_grants(compared: &[Compared<'_>]) -> Vec<SecurityChange> {
    let mut out = Vec::new();
    for c in compared {
        for r in c.diff.resources.iter().filter(|r| r.action == Action::Add) {
            let Some(new) = c.new_resource(&r.logical_id) else { continue };
            let mut ctx = Ctx { stack: &c.diff.stack, id: &r.logical_id, rtype: &r.resource_type, out: &mut out };
            risky(&mut ctx, new);
        }
    }
    out.sort_by(|a, b| (a.category, &a.stack, &a.logical_id).cmp(&(b.category, &b.stack, &b.logical_id)));
    out
}

fn risky(ctx: &mut Ctx<'_>, r: &Resource) {
    let rtype = ctx.rtype.to_string();
    for (name, doc) in documents(&rtype, Some(r)) {
        let category = match name.as_str() {
            "trust policy" if trusts_saml(doc) => Cat::SamlTrust,
            "trust policy" => Cat::Trust,
            "key policy" => Cat::KeyPolicy,
            "bucket policy" => Cat::BucketPolicy,
            "endpoint policy" => Cat::EndpointPolicy,
            "queue policy" => Cat::QueuePolicy,
            _ => Cat::Iam,
        };
        let Ok(list) = statement_list(Some(doc)) else { continue };
        for (key, (_, s)) in &list {
            if s.effect == Effect::Deny {
                continue;
            }
            let p = parts(s);
            let mut why = Vec::new();
            let wild: Vec<&String> = p.actions.iter().filter(|a| *a == "*" || a.ends_with(":*")).collect();
            let account_admin = category == Cat::KeyPolicy && p.principals.iter().all(|x| x.contains(":root"));
            if !wild.is_empty() && !account_admin {
                why.push(format!("every action of {}", wild.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ")));
            }
            if category == Cat::Iam && p.resources.contains("*") {
                why.push("on every resource (*)".to_string());
            }
            if p.principals.iter().any(|x| x == "*" || x == "AWS:*") && p.conditions.is_empty() {
                why.push("to anyone (principal *, no condition)".to_string());
            }
            if !why.is_empty() {
                let sid = if key.starts_with('{') { String::new() } else { format!(" {key}") };
                ctx.push(
                    category,
                    Direction::Relaxed,
                    format!("{name}: statement{sid} grants {}: {}", why.join(", "), describe(s)),
                );
            }
        }
    }
    match rtype.as_str() {
        "AWS::EC2::SecurityGroup" => {
            for (key, direction) in
                [("SecurityGroupIngress", RuleDirection::Ingress), ("SecurityGroupEgress", RuleDirection::Egress)]
            {
                for rule in prop(Some(r), key)
                    .and_then(Expr::as_list)
                    .into_iter()
                    .flatten()
                    .filter_map(|x| SecurityGroupRule::from_expr(direction, x).ok())
                {
                    if rule.peer.as_ref().is_some_and(Peer::is_anywhere) {
                        ctx.push(
                            Cat::SecurityGroup,
                            Direction::Relaxed,
                            format!("{} rule open to any address: {}", direction.word(), rule_text(&rule)),
                        );
                    }
                }
            }
            if prop(Some(r), "SecurityGroupEgress").is_none() {
                ctx.push(
                    Cat::SecurityGroup,
                    Direction::Relaxed,
                    "security group without egress rules: it allows all outbound traffic".into(),
                );
            }
        }
        "AWS::EC2::SecurityGroupIngress" | "AWS::EC2::SecurityGroupEgress" => {
            let direction = if rtype.ends_with("Ingress") { RuleDirection::Ingress } else { RuleDirection::Egress };
            if let Ok(rule) = SecurityGroupRule::from_expr(direction, &Expr::Map(r.properties.clone())) {
                if rule.peer.as_ref().is_some_and(Peer::is_anywhere) {
                    ctx.push(
                        Cat::SecurityGroup,
                        Direction::Relaxed,
                        format!("{} rule open to any address: {}", direction.word(), rule_text(&rule)),
                    );
                }
            }
        }
        "AWS::Lambda::Permission"
            if prop(Some(r), "SourceArn").is_none() && prop(Some(r), "SourceAccount").is_none() =>
        {
            ctx.push(
                Cat::LambdaPermission,
                Direction::Relaxed,
                format!(
                    "{} may invoke the function from any source (no SourceArn, no SourceAccount)",
                    show_opt(prop(Some(r), "Principal"))
                ),
            );
        }
        "AWS::AppStream::Stack" => {
            let listed: BTreeMap<String, String> = prop(Some(r), "UserSettings")
                .and_then(Expr::as_list)
                .into_iter()
                .flatten()
                .filter_map(|s| {
                    let a = s.get("Action")?.as_str()?.to_string();
                    Some((a, s.get("Permission").and_then(Expr::as_str).unwrap_or("ENABLED").to_string()))
                })
                .collect();
            for (action, what) in [
                ("FILE_DOWNLOAD", "users can download files from the sandbox"),
                ("CLIPBOARD_COPY_TO_LOCAL_DEVICE", "users can copy text out of the sandbox"),
                ("PRINTING_TO_LOCAL_DEVICE", "users can print from the sandbox"),
                ("FILE_UPLOAD", "users can upload files into the sandbox"),
            ] {
                // AppStream enables every action the stack does not list.
                let permission = listed.get(action).map_or("ENABLED (not listed: AppStream's default)", String::as_str);
                if permission.starts_with("ENABLED") {
                    ctx.push(
                        Cat::UserSettings,
                        Direction::Relaxed,
                        format!("user setting {action}: {permission} ({what})"),
                    );
                }
            }
        }
        "AWS::AppStream::Fleet"
            if prop(Some(r), "EnableDefaultInternetAccess").map(|v| compact_expr(&canonical(v), 10)).as_deref()
                == Some("true") =>
        {
            ctx.push(Cat::Fleet, Direction::Relaxed, "the streaming instances have default internet access".into());
        }
        "AWS::SageMaker::NotebookInstance" => {
            // Both default to Enabled when absent (SageMaker API reference, CreateNotebookInstance).
            for (name, what) in
                [("DirectInternetAccess", "direct internet access"), ("RootAccess", "root access for users")]
            {
                let value = prop(Some(r), name).map_or_else(|| "Enabled".to_string(), |v| unquote(compact_expr(v, 40)));
                if value != "Disabled" {
                    ctx.push(Cat::Notebook, Direction::Relaxed, format!("{name} {value}: the notebook has {what}"));
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_what_they_match_and_no_more() {
        assert!(glob_covers("arn:x:s3:::b/*", "arn:x:s3:::b/team/*"));
        assert!(glob_covers("*", "anything*"));
        assert!(glob_covers("s3:Get*", "s3:GetObject"));
        assert!(glob_covers("a?c", "abc"));
        assert!(!glob_covers("arn:x:s3:::b/team/*", "arn:x:s3:::b/*"));
        assert!(!glob_covers("a?c", "a*c"), "a ? cannot stand for a whole run");
        assert!(!glob_covers("s3:GetObject", "s3:Get*"));
        assert!(glob_covers("b/*/session.json", "b/user/custom/h/session.json"));
    }

    #[test]
    fn fn_sub_patterns_are_their_template_text() {
        let scope = crate::cfn::Scope::new(["Bucket"], ["P"]);
        let with_var = Expr::sub_with("${V}/team/*", [("V", Expr::parameter("DataBucketArn"))]);
        assert_eq!(pattern(&with_var), "${!Ref DataBucketArn}/team/*");
        let plain = Expr::sub_in("arn:${AWS::Partition}:s3:::${Bucket}/*", &scope);
        assert_eq!(pattern(&plain), "arn:${AWS::Partition}:s3:::${Bucket}/*");
        assert_eq!(pattern(&Expr::from("s3:GetObject")), "s3:GetObject");
    }
}
