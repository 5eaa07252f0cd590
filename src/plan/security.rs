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
use crate::cfn::{CfnError, Expr, Resource, SubPart, ToExpr};

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
            let versioning = |r: Option<&Resource>| prop(r, "VersioningConfiguration").and_then(|v| v.get("Status")).and_then(Expr::as_str).map(str::to_string);
            if versioning(old).as_deref() == Some("Enabled") && versioning(new).as_deref() != Some("Enabled") {
                ctx.push(Cat::Bucket, Direction::Relaxed, "bucket versioning no longer enabled: overwritten or deleted objects cannot be recovered".into());
            }
        }
        _ => {}
    }
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
    Parts {
        effect: s.effect.name().to_string(),
        actions: strings(&s.action),
        not_actions: strings(&s.not_action),
        resources: strings(&s.resource),
        principals,
        conditions,
    }
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

fn covers(set: &BTreeSet<String>, item: &str) -> bool {
    set.contains(item) || set.iter().any(|p| p == "*" || (p.ends_with('*') && item.starts_with(&p[..p.len() - 1])))
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
                let mut wider = Vec::new();
                let mut narrower = Vec::new();
                let mut list =
                    |before: &BTreeSet<String>, after: &BTreeSet<String>, what: &str, more_is_wider: bool| {
                        let added: Vec<&String> = after.iter().filter(|x| !covers(before, x)).collect();
                        let removed: Vec<&String> = before.iter().filter(|x| !covers(after, x)).collect();
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
