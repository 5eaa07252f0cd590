//! Users: the per-user resources (an execution role, a notebook instance and an allow-list
//! entry per user in `per_user` mode; the allow-list entry only in `shared` mode) in nested
//! "users" stacks, the shards.
//!
//! A user's shard is [`shard_of`]: a jump consistent hash of the first 8 bytes of the SHA-256
//! of the user ID over the shard count. It depends on the user ID and the count only, never on
//! who else is listed, so adding or removing a user changes that user's shard template (and the
//! root's reference to it) and nothing else. (The first user of a sandbox also turns the
//! notebooks on: the notebook stack's exports and its idle-stop lifecycle configuration, whose
//! name the shards import, and the notebook rights of the SageMaker
//! endpoints and the validator, which a sandbox without users does not have.)
//!
//! The count is `notebook.shards`, or, when unset, [`auto_shards`] of the user count (which
//! synth says, so that it can be written down). A change of the count moves about the share of
//! users a jump hash moves (from `n` to `m > n` shards, `1 - n/m` of them), each move a
//! replacement of the user's notebook; `sandboxc plan` lists the moves. A shard without users
//! has no stack.
//!
//! In the `single` layout every shard's resources go into the one template, under the same
//! logical IDs (which derive from the user ID only: [`super::notebook::user_id_prefix`]).

use std::collections::BTreeMap;

use sandboxc_contract::users::{personal_prefix, role_path, shared_notebook_name, user_hash};
use sandboxc_contract::validator::NotebookMode;

use crate::blueprint::{Blueprint, User};

use super::context::PartBuilder;
use super::notebook::{allow_list, notebook, role, user_id_prefix, Env};
use super::{CompileError, Ctx, Part};

/// Users per shard that [`auto_shards`] aims at. A user takes 3 resources in `per_user` mode
/// (role, notebook instance, allow-list entry), so at most 166 users fit CloudFormation's 500
/// resources per template; the bytes bind first: a user with two datasets takes about 9 KB
/// of the template (the role's policies most), so about 100 such users fill the 1 MB a
/// template read from S3 may have. 50 on average leaves room for the uneven spread of a hash
/// and for users with more grants.
pub const USERS_PER_SHARD: usize = 50;

/// Most shards (`notebook.shards`): two digits in the stacks' logical IDs (`Users01`..`Users99`).
pub const MAX_SHARDS: u32 = 99;

/// The shard count synth chooses when `notebook.shards` is unset: the smallest power of two
/// that keeps the average shard at or under [`USERS_PER_SHARD`] users (1 for up to 50 users,
/// 2 up to 100, 4 up to 200, 8 up to 400, 16 up to 800, 32 up to 1,600, 64 up to 3,200),
/// at most [`MAX_SHARDS`]. Powers of
/// two keep the count the same over wide ranges of user counts.
#[must_use]
pub fn auto_shards(users: usize) -> u32 {
    let needed = users.div_ceil(USERS_PER_SHARD).max(1).next_power_of_two();
    u32::try_from(needed).map_or(MAX_SHARDS, |n| n.min(MAX_SHARDS))
}

/// The shard count of a blueprint, and whether synth chose it (`notebook.shards` unset).
#[must_use]
pub fn shard_count(b: &Blueprint) -> (u32, bool) {
    match b.notebook.shards {
        Some(n) => (n.clamp(1, MAX_SHARDS), false),
        None => (auto_shards(b.users.len()), true),
    }
}

/// The shard (1-based, `1..=shards`) of `user_id` among `shards` shards: the jump consistent
/// hash (Lamping and Veach, "A Fast, Minimal Memory, Consistent Hash Algorithm", 2014) of the
/// first 8 bytes (big-endian) of the user ID's SHA-256. Depends on nothing else.
#[must_use]
pub fn shard_of(user_id: &str, shards: u32) -> u32 {
    let hash = user_hash(user_id);
    let key = u64::from_str_radix(hash.get(..16).unwrap_or("0"), 16).unwrap_or(0);
    jump_hash(key, shards.max(1)) + 1
}

/// Jump consistent hash: a bucket in `0..buckets` for `key`; growing `buckets` by one moves
/// only the keys that land in the new bucket.
fn jump_hash(mut key: u64, buckets: u32) -> u32 {
    let mut b: i64 = -1;
    let mut j: i64 = 0;
    while j < i64::from(buckets) {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
        {
            j = ((b + 1) as f64 * ((1_i64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
        }
    }
    u32::try_from(b).unwrap_or(0)
}

/// The title of a shard's stack: `Users01`..`Users99` (the nested stack `Users01NestedStack`,
/// the file `<env>-users01.template.json`).
#[must_use]
pub fn shard_title(shard: u32) -> String {
    format!("{}{shard:02}", Part::Users.title())
}

/// One part per shard that has users, in shard order.
pub(super) fn build(ctx: &mut Ctx<'_>) -> Result<Vec<PartBuilder>, CompileError> {
    let b = ctx.blueprint;
    let (shards, _) = shard_count(b);
    let mut by_shard: BTreeMap<u32, Vec<&User>> = BTreeMap::new();
    for u in &b.users {
        by_shard.entry(shard_of(&u.id, shards)).or_default().push(u);
    }
    let env = ctx.names.env.clone();
    let shared = b.notebook.mode == NotebookMode::Shared;
    let mut out = Vec::new();
    for (shard, users) in by_shard {
        let what = if shared {
            "an allow-list entry per user (shared notebook mode)"
        } else {
            "a SageMaker notebook instance, an execution role and an allow-list entry per user"
        };
        let mut p = PartBuilder::new(
            Part::Users,
            &format!("sandboxc data sandbox {env}: users shard {shard} of {shards}: {what}"),
        );
        p.shard = Some(shard);
        if shared {
            let name = shared_notebook_name(&env, &b.network.generation);
            for u in users {
                allow_list(&mut p, ctx, u, &name)?;
            }
            out.push(p);
            continue;
        }
        let idle = b.notebook.idle_stop.as_secs();
        let idle_stop =
            if idle > 0 { Some((p.import(ctx, Part::Notebook, "NotebookIdleStopConfigName")?, idle)) } else { None };
        let env_ = Env {
            idle_stop,
            data_bucket: p.import(ctx, Part::Storage, "DataBucketArn")?,
            data_key: p.import(ctx, Part::Storage, "DataKeyArn")?,
            s3_endpoint: p.import(ctx, Part::Network, "S3EndpointId")?,
            notebook_key: p.import(ctx, Part::Notebook, "NotebookKeyArn")?,
            subnets: p.import(ctx, Part::Network, "SubnetIds")?,
            sg: p.import(ctx, Part::Notebook, "NotebookSecurityGroupId")?,
        };
        for u in users {
            let id = user_id_prefix(&u.id);
            let role = role(
                &mut p,
                ctx,
                &env_,
                &user_role_logical_id(&u.id),
                &role_path(&env, &u.id),
                &u.grants,
                Some(&personal_prefix(&u.id)),
                &u.notebook_name,
                Some(&u.id),
            )?;
            notebook(
                &mut p,
                &env_,
                &format!("{id}Notebook"),
                &u.notebook_name,
                &u.instance_type,
                u.volume_size_gb,
                &role,
                ctx.user_tags(&u.id),
            )?;
            allow_list(&mut p, ctx, u, &u.notebook_name)?;
        }
        out.push(p);
    }
    Ok(out)
}

/// The logical ID of a user's notebook execution role (`per_user` mode): `User<Readable><first
/// 8 hex of the user hash>Role`, from the user ID only (the same in every layout and shard).
/// `sandboxc audit` finds the role's name (generated by CloudFormation) under it in the deployed
/// stack.
#[must_use]
pub fn user_role_logical_id(user_id: &str) -> String {
    format!("{}Role", user_id_prefix(user_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shard_depends_on_the_user_and_the_count_only() {
        for n in 1..=MAX_SHARDS {
            for u in ["alice@example.org", "bob", "Jörg Müller"] {
                let s = shard_of(u, n);
                assert!((1..=n).contains(&s), "{u} {n} -> {s}");
                assert_eq!(s, shard_of(u, n));
            }
        }
        assert_eq!(shard_of("anyone", 1), 1);
    }

    #[test]
    fn growing_the_count_moves_only_users_into_the_new_shard() {
        let users: Vec<String> = (0..2000).map(|i| format!("user-{i}")).collect();
        for n in 1..40 {
            let mut moved: usize = 0;
            for u in &users {
                let (before, after) = (shard_of(u, n), shard_of(u, n + 1));
                if before != after {
                    assert_eq!(after, n + 1, "{u}: {before} -> {after}");
                    moved += 1;
                }
            }
            // About 1/(n+1) of the users move.
            let expected = users.len() / (n as usize + 1);
            assert!(moved.abs_diff(expected) < expected / 2 + 30, "{n}: {moved} moved, about {expected} expected");
        }
    }

    #[test]
    fn synth_chooses_powers_of_two_of_about_fifty_users_each() {
        let cases =
            [(0, 1), (1, 1), (50, 1), (51, 2), (100, 2), (101, 4), (800, 16), (1000, 32), (5000, 99), (100_000, 99)];
        for (users, shards) in cases {
            assert_eq!(auto_shards(users), shards, "{users}");
        }
        assert_eq!(shard_title(7), "Users07");
    }
}
