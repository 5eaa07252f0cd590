#!/usr/bin/env python3
"""Runs the Athena audit query (`sandboxc audit --engine athena`) on DuckDB over local fixture
directories laid out as the buckets, and prints the result rows as JSON.

Usage: audit_duckdb.py USAGE_REPORTS_DIR CLOUDTRAIL_DIR SQL_FILE > rows.json
       audit_duckdb.py --scan USAGE_REPORTS_DIR CLOUDTRAIL_DIR TRAIL_PREDICATE REPORTS_PREDICATE
       audit_duckdb.py --decisions DECISIONS_DIR SQL_FILE > rows.json

With --scan, each table holds one row per file (its partition columns and "$path") and the
harness prints {"trail": [...], "reports": [...]}: the files whose partitions the predicates
(the query's own, on the partition columns only) select, i.e. the files Athena reads.

The harness stands in for Athena and its Glue tables, nothing more:

* Tables. `sandboxc_audit.cloudtrail` has the columns of the CloudTrail table of the Athena user
  guide ("Create the table for CloudTrail logs in Athena using partition projection") that the
  query reads, the partition columns `account`, `region`, `day` (`yyyy/MM/dd`) taken from the key
  `AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<MM>/<dd>/`, and `"$path"`. Each file's records
  are loaded as the local engine reads them: gzip or plain, the records before a break when a
  file is cut off; a file that is not `{"Records": [...]}` gives no rows (in a trail bucket's
  CloudTrail folders there are no other files). A field that is not a JSON string is NULL.
  `sandboxc_audit.sessions` has the 29 documented sessions-report columns by position (as the
  OpenCSVSerde table reads them: a header row is a row like any other, extra columns are
  dropped, missing ones are NULL), the partition columns `year`, `month`, `day` from the key
  `sessions/schedule=DAILY/year=YYYY/month=MM/day=DD/`, and `"$path"`.
* With --decisions, `sandboxc_audit.validator_decisions` is the exported validator decisions'
  table (src/compile/audit.rs DECISIONS_COLUMNS): one row per line of every object under
  `decisions/<yyyy>/<MM>/<dd>/` (gzip or plain), each line one CloudWatch Logs subscription record
  as Firehose delivers it (`messageType`, `owner`, `logGroup`, `logStream`,
  `subscriptionFilters`, `logEvents[{id, timestamp, message}]`), read with the keys matched
  case-insensitively as the JSON SerDe does (a missing key is NULL; a line that is not a JSON
  object gives no row), the partition column `day` (`yyyy/MM/dd`) from the key, and `"$path"`.
  Trino expands `CROSS JOIN UNNEST(array_of_rows) AS e (a, b, c)` into one column per field;
  DuckDB's equivalent, `CROSS JOIN LATERAL (SELECT unnest(array_of_rows, recursive := true)) AS e
  (a, b, c)`, replaces it in the text.
* Trino functions DuckDB lacks or names differently, as macros (the whole list):
  `from_iso8601_timestamp(x)` = `CAST(x AS TIMESTAMPTZ)` (session time zone UTC, as Athena's);
  `to_unixtime(t)` = `epoch(t)`; `json_extract_scalar(j, p)` = `json_extract_string(j, p)`;
  `regexp_like(s, p)` = `regexp_matches(s, p)` (RE2 reads `\\A` and `\\z`, the text's ends, as
  Trino's Joni and RE2J do); `array_join(a, s)` = `array_to_string(a, s)`.
  Trino's `transform(array, x -> ...)` is renamed to DuckDB's `list_transform` in the text (a
  DuckDB macro cannot take a lambda), and Trino's `x -> ...` lambdas are enabled with
  `SET lambda_syntax='ENABLE_SINGLE_ARROW'`. `try`, `try_cast`, `filter`, `cardinality`, `strpos`,
  `substr`, `split_part`, `regexp_extract`, `min_by`, `chr`, `round`, aggregate `FILTER` and
  1-based array subscripts exist in both with the same meaning for the values the query uses.
"""

import csv
import gzip
import io
import json
import os
import re
import sys
import tempfile
import zlib

import duckdb

TRAIL_KEY = re.compile(r"AWSLogs/(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/[^/]+$")
REPORT_KEY = re.compile(r"sessions/schedule=DAILY/year=(\d{4})/month=(\d{2})/day=(\d{2})/[^/]+$")
REPORT_COLUMNS = [
    "user_session_id", "aws_account_id", "region", "session_start_time", "session_end_time",
    "session_duration_in_seconds", "user_id", "user_arn", "authentication_type",
    "authentication_type_user_id", "fleet_name", "stack_name", "instance_type",
    "eni_private_ip_address", "connected_at_least_once", "client_ip_addresses",
    "google_drive_enabled", "one_drive_enabled", "home_folders_storage_location",
    "user_settings_clipboard_copy_from_local_device", "user_settings_clipboard_copy_to_local_device",
    "user_settings_file_upload", "user_settings_file_download",
    "user_settings_printing_to_local_device", "application_settings_enabled", "domain_joined",
    "max_session_duration", "session_type", "stream_view",
]
MACROS = [
    "CREATE MACRO from_iso8601_timestamp(x) AS CAST(x AS TIMESTAMPTZ)",
    "CREATE MACRO to_unixtime(t) AS epoch(t)",
    "CREATE MACRO json_extract_scalar(j, p) AS json_extract_string(j, p)",
    "CREATE MACRO regexp_like(s, p) AS regexp_matches(s, p)",
    "CREATE MACRO array_join(a, s) AS array_to_string(a, s)",
]


def files(root):
    out = []
    for d, _, names in os.walk(root):
        for n in names:
            out.append(os.path.relpath(os.path.join(d, n), root).replace(os.sep, "/"))
    return sorted(out)


def decompress(data):
    if not data.startswith(b"\x1f\x8b"):
        return data
    out = b""
    while data:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += d.decompress(data)
        except zlib.error:
            break
        data = d.unused_data
    return out


def records(text):
    """The records of a CloudTrail file, or those before the break of a cut-off one."""
    try:
        doc = json.loads(text)
        recs = doc.get("Records") if isinstance(doc, dict) else None
        return recs if isinstance(recs, list) else []
    except ValueError:
        pass
    m = re.search(r'"Records"\s*:\s*\[', text)
    if not m:
        return []
    dec, i, out = json.JSONDecoder(), m.end(), []
    while True:
        while i < len(text) and text[i] in " \t\r\n,":
            i += 1
        try:
            value, i = dec.raw_decode(text, i)
        except ValueError:
            return out
        out.append(value)


def s(v):
    return v if isinstance(v, str) else None


def trail_row(rec, path, account, region, day):
    identity = rec.get("userIdentity") if isinstance(rec.get("userIdentity"), dict) else {}
    ctx = identity.get("sessionContext") if isinstance(identity.get("sessionContext"), dict) else {}
    issuer = ctx.get("sessionIssuer") if isinstance(ctx.get("sessionIssuer"), dict) else {}
    res = rec.get("resources")
    resources = None
    if isinstance(res, list):
        resources = [
            {"arn": s(r.get("ARN", r.get("arn"))), "accountid": s(r.get("accountId")), "type": s(r.get("type"))}
            for r in res
            if isinstance(r, dict)
        ]
    params = rec.get("requestParameters")
    return {
        "eventid": s(rec.get("eventID")),
        "eventtime": s(rec.get("eventTime")),
        "eventsource": s(rec.get("eventSource")),
        "eventname": s(rec.get("eventName")),
        "eventcategory": s(rec.get("eventCategory")),
        "sourceipaddress": s(rec.get("sourceIPAddress")),
        "errorcode": s(rec.get("errorCode")),
        "useridentity": {"arn": s(identity.get("arn")), "sessioncontext": {"sessionissuer": {"arn": s(issuer.get("arn"))}}},
        "recipientaccountid": s(rec.get("recipientAccountId")),
        "vpcendpointid": s(rec.get("vpcEndpointId")),
        "requestparameters": None if params is None else json.dumps(params),
        "resources": resources,
        "$path": path,
        "account": account,
        "region": region,
        "day": day,
    }


TRAIL_TYPES = {
    "eventid": "VARCHAR", "eventtime": "VARCHAR", "eventsource": "VARCHAR", "eventname": "VARCHAR",
    "eventcategory": "VARCHAR", "sourceipaddress": "VARCHAR", "errorcode": "VARCHAR",
    "useridentity": "STRUCT(arn VARCHAR, sessioncontext STRUCT(sessionissuer STRUCT(arn VARCHAR)))",
    "recipientaccountid": "VARCHAR", "vpcendpointid": "VARCHAR", "requestparameters": "VARCHAR",
    "resources": "STRUCT(arn VARCHAR, accountid VARCHAR, type VARCHAR)[]",
    "$path": "VARCHAR", "account": "VARCHAR", "region": "VARCHAR", "day": "VARCHAR",
}


def load(con, name, rows, types, tmp):
    path = os.path.join(tmp, name + ".jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    cols = "{" + ", ".join(f"'{k}': '{v}'" for k, v in types.items()) + "}"
    con.execute(
        f"CREATE TABLE sandboxc_audit.{name} AS SELECT * FROM read_json('{path}', format='newline_delimited', "
        f"columns={cols})"
    )


def scan(reports_dir, trail_dir, trail_pred, reports_pred):
    con = duckdb.connect()
    con.execute("CREATE TABLE cloudtrail (\"$path\" VARCHAR, account VARCHAR, region VARCHAR, day VARCHAR)")
    con.execute("CREATE TABLE sessions (\"$path\" VARCHAR, year VARCHAR, month VARCHAR, day VARCHAR)")
    for rel in files(trail_dir):
        m = TRAIL_KEY.search(rel)
        if m:
            con.execute("INSERT INTO cloudtrail VALUES (?, ?, ?, ?)",
                        [rel, m.group(1), m.group(2), f"{m.group(3)}/{m.group(4)}/{m.group(5)}"])
    for rel in files(reports_dir):
        m = REPORT_KEY.search(rel)
        if m:
            con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", [rel, m.group(1), m.group(2), m.group(3)])
    pick = lambda t, p: [r[0] for r in con.execute(f'SELECT "$path" FROM {t} WHERE {p} ORDER BY 1').fetchall()]
    json.dump({"trail": pick("cloudtrail", trail_pred), "reports": pick("sessions", reports_pred)}, sys.stdout)


DECISIONS_KEY = re.compile(r"decisions/(\d{4})/(\d{2})/(\d{2})/[^/]+$")
DECISIONS_TYPES = {
    "messagetype": "VARCHAR", "owner": "VARCHAR", "loggroup": "VARCHAR", "logstream": "VARCHAR",
    "subscriptionfilters": "VARCHAR[]",
    "logevents": 'STRUCT(id VARCHAR, "timestamp" BIGINT, message VARCHAR)[]',
    "$path": "VARCHAR", "day": "VARCHAR",
}


def lower_keys(v):
    return {k.lower(): x for k, x in v.items()} if isinstance(v, dict) else {}


def decision_row(rec, path, day):
    rec = lower_keys(rec)
    events = rec.get("logevents")
    if isinstance(events, list):
        events = [lower_keys(e) for e in events if isinstance(e, dict)]
        events = [
            {"id": s(e.get("id")), "timestamp": e.get("timestamp") if isinstance(e.get("timestamp"), int) else None,
             "message": s(e.get("message"))}
            for e in events
        ]
    else:
        events = None
    filters = rec.get("subscriptionfilters")
    return {
        "messagetype": s(rec.get("messagetype")),
        "owner": s(rec.get("owner")),
        "loggroup": s(rec.get("loggroup")),
        "logstream": s(rec.get("logstream")),
        "subscriptionfilters": [f for f in filters if isinstance(f, str)] if isinstance(filters, list) else None,
        "logevents": events,
        "$path": path,
        "day": day,
    }


def decisions(decisions_dir, sql_file):
    rows = []
    for rel in files(decisions_dir):
        m = DECISIONS_KEY.search(rel)
        if not m:
            continue
        with open(os.path.join(decisions_dir, rel), "rb") as f:
            text = decompress(f.read()).decode("utf-8", "replace")
        for line in text.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict):
                rows.append(decision_row(rec, "s3://decisions/" + rel, f"{m.group(1)}/{m.group(2)}/{m.group(3)}"))
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    for macro in MACROS:
        con.execute(macro)
    con.execute("CREATE SCHEMA sandboxc_audit")
    with tempfile.TemporaryDirectory() as tmp:
        load(con, "validator_decisions", rows, DECISIONS_TYPES, tmp)
    with open(sql_file, encoding="utf-8") as f:
        sql = re.sub(
            r"CROSS JOIN UNNEST\((\w+)\) AS",
            r"CROSS JOIN LATERAL (SELECT unnest(\1, recursive := true)) AS",
            f.read(),
        )
    out = con.execute(sql).fetchall()
    json.dump([[None if v is None else str(v) for v in r] for r in out], sys.stdout)


def main():
    if sys.argv[1] == "--scan":
        return scan(*sys.argv[2:6])
    if sys.argv[1] == "--decisions":
        return decisions(*sys.argv[2:4])
    reports_dir, trail_dir, sql_file = sys.argv[1:4]
    trail = []
    for rel in files(trail_dir) if os.path.isdir(trail_dir) else []:
        m = TRAIL_KEY.search(rel)
        if not m:
            continue
        with open(os.path.join(trail_dir, rel), "rb") as f:
            text = decompress(f.read()).decode("utf-8", "replace")
        for rec in records(text):
            if isinstance(rec, dict):
                day = f"{m.group(3)}/{m.group(4)}/{m.group(5)}"
                trail.append(trail_row(rec, "s3://trail/" + rel, m.group(1), m.group(2), day))
    sessions = []
    for rel in files(reports_dir) if os.path.isdir(reports_dir) else []:
        m = REPORT_KEY.search(rel)
        if not m:
            continue
        with open(os.path.join(reports_dir, rel), "rb") as f:
            text = decompress(f.read()).decode("utf-8", "replace")
        for fields in csv.reader(io.StringIO(text)):
            if not fields or all(not x.strip() for x in fields):
                continue
            row = {c: (fields[i] if i < len(fields) else None) for i, c in enumerate(REPORT_COLUMNS)}
            row.update({"$path": "s3://reports/" + rel, "year": m.group(1), "month": m.group(2), "day": m.group(3)})
            sessions.append(row)
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    con.execute("SET lambda_syntax='ENABLE_SINGLE_ARROW'")
    for macro in MACROS:
        con.execute(macro)
    con.execute("CREATE SCHEMA sandboxc_audit")
    with tempfile.TemporaryDirectory() as tmp:
        load(con, "cloudtrail", trail, TRAIL_TYPES, tmp)
        types = {c: "VARCHAR" for c in REPORT_COLUMNS + ["$path", "year", "month", "day"]}
        load(con, "sessions", sessions, types, tmp)
    with open(sql_file, encoding="utf-8") as f:
        sql = f.read().replace("transform(", "list_transform(")
    rows = con.execute(sql).fetchall()
    json.dump([[None if v is None else str(v) for v in r] for r in rows], sys.stdout)


if __name__ == "__main__":
    main()
