#!/usr/bin/env bash
# The local audit engine at scale (issue 14): generates a day of CloudTrail S3 data events
# (default 1 GB of uncompressed JSON, about 500,000 records of ~2 KB, in 100 gzip files laid
# out as the trail bucket) with a usage report whose sessions claim the addresses, then
# measures, with a release build:
#   - `gzip -dc` of the same files (the floor of what reading costs),
#   - `sandboxc audit --format csv` with --jobs 1 and with every core,
# printing wall time, MB/s of uncompressed JSON (total and per core) and peak resident memory
# (GNU time's maximum resident set size).
# Usage: scripts/audit-bench.sh [MB] [DIR]   (needs python3, gzip, /usr/bin/time)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mb="${1:-1024}"
dir="${2:-${TMPDIR:-/tmp}/sandboxc-audit-bench-$mb}"
if [ ! -f "$dir/done" ]; then
    rm -rf "$dir"
    python3 - "$dir" "$mb" <<'PY'
import gzip, json, os, random, sys, uuid
root, mb = sys.argv[1], int(sys.argv[2])
random.seed(14)
acct, bucket = "123456789012", "datasandbox-data-1a2b3c4d"
users = 200
rep = os.path.join(root, "u/sessions/schedule=DAILY/year=2026/month=11/day=28")
os.makedirs(rep)
with open(os.path.join(rep, "daily-session-report-2026-11-28.csv"), "w") as f:
    for u in range(users):
        f.write(f"s{u},{acct},us-east-1,2026-11-28T00:00:00Z,2026-11-28T23:59:59Z,86399,user{u},arn,CUSTOM,user{u}_CUSTOM,fleet,stack,stream.standard.small,10.0.{u // 250}.{u % 250 + 1},true,203.0.113.9,false,false,s3,ENABLED,DISABLED,DISABLED,DISABLED,DISABLED,false,false,432000,ALWAYS_ON,APP\n")
trail = os.path.join(root, f"t/AWSLogs/{acct}/CloudTrail/us-east-1/2026/11/28")
os.makedirs(trail)
files, target = 100, mb * 1024 * 1024
per_file, written, n = target // files, 0, 0
pad = "x" * 900
for i in range(files):
    recs, size = [], 0
    while size < per_file:
        u = random.randrange(users)
        t = n * 86_000_000 // (target // 2048 + 1)
        rec = {"eventVersion": "1.09", "userIdentity": {"type": "AssumedRole", "principalId": "AROAX:appstream_machine_role",
               "arn": f"arn:aws:sts::{acct}:assumed-role/datasandbox-fleet-role/appstream_machine_role", "accountId": acct,
               "sessionContext": {"sessionIssuer": {"type": "Role", "arn": f"arn:aws:iam::{acct}:role/datasandbox-fleet-role"}}},
               "eventTime": f"2026-11-28T{t // 3600000 % 24:02d}:{t // 60000 % 60:02d}:{t // 1000 % 60:02d}Z",
               "eventSource": "s3.amazonaws.com", "eventName": random.choice(["GetObject", "PutObject", "HeadObject"]),
               "awsRegion": "us-east-1", "sourceIPAddress": f"10.0.{u // 250}.{u % 250 + 1}", "userAgent": "[aws-cli/2] " + pad,
               "requestParameters": {"bucketName": bucket, "key": f"datasets/genomics/file-{random.randrange(10**6)}.parquet", "Host": f"{bucket}.s3.amazonaws.com"},
               "responseElements": None, "requestID": uuid.uuid4().hex[:16].upper(), "eventID": str(uuid.UUID(int=random.getrandbits(128), version=4)),
               "readOnly": True, "resources": [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/k"}, {"accountId": acct, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}],
               "eventType": "AwsApiCall", "managementEvent": False, "recipientAccountId": acct, "vpcEndpointId": "vpce-0123456789abcdef0", "eventCategory": "Data"}
        s = json.dumps(rec)
        recs.append(s); size += len(s) + 1; n += 1
    body = '{"Records":[' + ",".join(recs) + "]}"
    written += len(body)
    with gzip.open(os.path.join(trail, f"{acct}_CloudTrail_us-east-1_20261128T{i:04d}Z_bench{i:04d}.json.gz"), "wt", compresslevel=6) as f:
        f.write(body)
open(os.path.join(root, "done"), "w").write(f"{written} {n}\n")
PY
fi
read -r bytes records < "$dir/done"
echo "day: $((bytes / 1048576)) MB uncompressed JSON, $records records, $(du -sm "$dir/t" | cut -f1) MB gzip, in $dir"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sandboxc/target}"
(cd "$repo" && cargo build --release --quiet --bin sandboxc)
exe="$CARGO_TARGET_DIR/release/sandboxc"
cores="$(nproc)"
measure() { # label, command...
    local label="$1"; shift
    local out; out="$( { /usr/bin/time -f '%e %M' "$@" > /dev/null; } 2>&1 | tail -1)"
    local secs="${out% *}" kb="${out#* }"
    python3 - "$label" "$secs" "$kb" "$bytes" <<'PY'
import sys
label, secs, kb, size = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
mbs = size / 1048576 / max(secs, 1e-9)
print(f"{label:28} {secs:8.2f} s  {mbs:8.1f} MB/s  peak {kb / 1024:7.1f} MB")
PY
}
measure "gzip -dc (one core)" sh -c "cat \"\$(find '$dir/t' -name '*.gz' | head -1)\" > /dev/null; find '$dir/t' -name '*.gz' -print0 | sort -z | xargs -0 gzip -dc"
measure "sandboxc audit --jobs 1" "$exe" audit --usage-reports "$dir/u" --cloudtrail "$dir/t" --format csv --jobs 1
measure "sandboxc audit --jobs $cores" "$exe" audit --usage-reports "$dir/u" --cloudtrail "$dir/t" --format csv --jobs "$cores"
echo "per core with --jobs $cores: divide the MB/s by $cores"
