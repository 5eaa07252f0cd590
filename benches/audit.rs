//! Benchmark: `sandboxc audit`'s join over a synthetic day of CloudTrail logs, reported by
//! criterion as records per second (`thrpt`, in elements/s).
//!
//! The set: 400 sessions of 200 users on 100 interface addresses (four sessions per address,
//! one after another), and 40 gzip files of 2,500 S3 data-event records each (100,000 records,
//! about 1.9 KB of JSON per record as CloudTrail writes them: userIdentity with
//! sessionContext, additionalEventData, tlsDetails, resources), 5% of them from addresses no
//! session held. Each iteration reads the usage report, streams every file through gzip and the
//! record visitor, attributes, and groups the report, as `sandboxc audit` does.

use std::io::Write;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sandboxc::audit::{Auditor, Filters, Report};

const DATA: &str = "datasandbox-data-1a2b3c4d";
const DAY: &str = "2026-11-28";
const FILES: usize = 40;
const PER_FILE: usize = 2_500;

fn time(second_of_day: usize) -> String {
    format!("{DAY}T{:02}:{:02}:{:02}Z", second_of_day / 3600 % 24, second_of_day / 60 % 60, second_of_day % 60)
}

fn usage_report() -> Vec<u8> {
    let mut out = String::from("user_session_id,aws_account_id,region,session_start_time,session_end_time,session_duration_in_seconds,user_id,user_arn,authentication_type,authentication_type_user_id,fleet_name,stack_name,instance_type,eni_private_ip_address\n");
    for s in 0..400 {
        let ip = s % 100;
        let slot = s / 100; // four consecutive six-hour sessions per address
        let (start, end) = (slot * 21_600, slot * 21_600 + 21_000);
        out.push_str(&format!(
            "s-{s:04},123456789012,us-east-1,{},{},21000,user{},arn,CUSTOM,x,fleet,stack,stream.standard.small,10.10.{}.{}\n",
            time(start),
            time(end),
            s % 200,
            ip / 250,
            ip % 250 + 1
        ));
    }
    out.into_bytes()
}

fn record(n: usize) -> serde_json::Value {
    let second = n * 86_400 / (FILES * PER_FILE);
    let ip = if n % 20 == 0 { "10.99.0.1".to_string() } else { format!("10.10.0.{}", n % 100 + 1) };
    let name = ["GetObject", "PutObject", "HeadObject", "GetObject"][n % 4];
    serde_json::json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLE:appstream_machine_role",
            "arn": "arn:aws:sts::123456789012:assumed-role/datasandbox-fleet-role/appstream_machine_role",
            "accountId": "123456789012", "accessKeyId": "ASIAEXAMPLE",
            "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE", "arn": "arn:aws:iam::123456789012:role/datasandbox-fleet-role", "accountId": "123456789012", "userName": "datasandbox-fleet-role"},
                "attributes": {"creationDate": "2026-11-28T00:00:00Z", "mfaAuthenticated": "false"}}},
        "eventTime": time(second), "eventSource": "s3.amazonaws.com", "eventName": name, "awsRegion": "us-east-1",
        "sourceIPAddress": ip, "userAgent": "[aws-cli/2.22.0 Python/3.12.6 Windows/10 exe/AMD64 prompt/off command/s3.cp]",
        "requestParameters": {"bucketName": DATA, "Host": format!("{DATA}.s3.us-east-1.amazonaws.com"), "key": format!("project/raw/part-{:05}.parquet", n % 5000), "x-id": name},
        "responseElements": null,
        "additionalEventData": {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader", "x-amz-id-2": "k3cVSbsl3DQp0MVMvZ2XU1qzTSQ5IfUkL0ePpr3Dp4zcz1m4Y3GPe1pH1U2eTrq5sLQ0r5Vw4fA=", "bytesTransferredOut": 52_428_800},
        "requestID": format!("REQ{n:013}"), "eventID": format!("00000000-0000-4000-8000-{n:012}"), "readOnly": name != "PutObject",
        "resources": [{"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{DATA}/project/raw/part-{:05}.parquet", n % 5000)}, {"accountId": "123456789012", "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{DATA}")}],
        "eventType": "AwsApiCall", "managementEvent": false, "recipientAccountId": "123456789012",
        "vpcEndpointId": "vpce-0a1b2c3d4e5f60718", "vpcEndpointAccountId": "123456789012", "eventCategory": "Data",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": format!("{DATA}.s3.us-east-1.amazonaws.com")}
    })
}

/// The gzip files and their total uncompressed size.
fn trail_files() -> (Vec<Vec<u8>>, usize) {
    let mut files = Vec::new();
    let mut raw = 0;
    for f in 0..FILES {
        let records: Vec<serde_json::Value> = (0..PER_FILE).map(|i| record(f * PER_FILE + i)).collect();
        let json = serde_json::to_vec(&serde_json::json!({ "Records": records })).unwrap_or_default();
        raw += json.len();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let _ = gz.write_all(&json);
        files.push(gz.finish().unwrap_or_default());
    }
    (files, raw)
}

fn audit_day(c: &mut Criterion) {
    let usage = usage_report();
    let (files, raw) = trail_files();
    let records = FILES * PER_FILE;
    eprintln!(
        "synthetic CloudTrail set: {records} records, {} MB of JSON, {} MB gzip",
        raw / 1_000_000,
        files.iter().map(Vec::len).sum::<usize>() / 1_000_000
    );
    let mut group = c.benchmark_group("audit");
    group.sample_size(10);
    group.throughput(Throughput::Elements(records as u64));
    group.bench_function("join 100k CloudTrail records (gzip, stream, attribute, report)", |b| {
        b.iter(|| {
            let mut aud = Auditor::new(Filters { buckets: vec![DATA.into()], ..Filters::default() });
            aud.read_usage_report("usage.csv", usage.as_slice());
            aud.index();
            for (i, f) in files.iter().enumerate() {
                aud.read_cloudtrail(&format!("trail-{i}.json.gz"), f.as_slice());
            }
            let report = Report::build(aud, Vec::new());
            std::hint::black_box((report.attributed.len(), report.unattributed.len()))
        });
    });
    group.finish();
}

criterion_group!(benches, audit_day);
criterion_main!(benches);
