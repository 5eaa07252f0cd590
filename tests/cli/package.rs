//! `sandboxc package` (src/package): reproducible zips, the glibc check, and (opt-in, heavy)
//! a real `cargo zigbuild` of both functions, packaged twice.
//!
//! The real build runs when `SANDBOXC_PACKAGE_TEST=1` (it needs `cargo-zigbuild` and `ziglang`
//! in `$SANDBOXC_VENV` or `.venv`, and builds the AWS SDK in release mode: minutes on 2 cores). It is
//! skipped with a note otherwise, and fails when `CI` is set without it.

use std::io::{Cursor, Read};
use std::path::Path;

use sandboxc::assets::identity;
use sandboxc::package::{check_glibc, elf, package, package_with, zip_bytes, PackageError, MAX_GLIBC};

/// A minimal ELF-64 file whose `.gnu.version_r` requires `versions` from `libc.so.6`.
fn fake_elf(versions: &[&str]) -> Vec<u8> {
    let mut strings = b"\0libc.so.6\0".to_vec();
    let mut names = Vec::new();
    for v in versions {
        names.push(u32::try_from(strings.len()).expect("small"));
        strings.extend_from_slice(v.as_bytes());
        strings.push(0);
    }
    let strtab_off = 64usize;
    let verneed_off = (strtab_off + strings.len() + 7) & !7;
    let mut verneed = Vec::new();
    let count = u16::try_from(versions.len()).expect("small");
    verneed.extend_from_slice(&1u16.to_le_bytes()); // vn_version
    verneed.extend_from_slice(&count.to_le_bytes()); // vn_cnt
    verneed.extend_from_slice(&1u32.to_le_bytes()); // vn_file: "libc.so.6"
    verneed.extend_from_slice(&16u32.to_le_bytes()); // vn_aux
    verneed.extend_from_slice(&0u32.to_le_bytes()); // vn_next
    for (i, name) in names.iter().enumerate() {
        verneed.extend_from_slice(&0u32.to_le_bytes()); // vna_hash
        verneed.extend_from_slice(&0u16.to_le_bytes()); // vna_flags
        verneed.extend_from_slice(&2u16.to_le_bytes()); // vna_other
        verneed.extend_from_slice(&name.to_le_bytes()); // vna_name
        let next: u32 = if i + 1 < names.len() { 16 } else { 0 };
        verneed.extend_from_slice(&next.to_le_bytes()); // vna_next
    }
    let shoff = (verneed_off + verneed.len() + 7) & !7;
    let mut elf = vec![0u8; shoff + 3 * 64];
    elf[..6].copy_from_slice(b"\x7fELF\x02\x01");
    elf[0x28..0x30].copy_from_slice(&(shoff as u64).to_le_bytes());
    elf[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes());
    elf[0x3c..0x3e].copy_from_slice(&3u16.to_le_bytes());
    elf[strtab_off..strtab_off + strings.len()].copy_from_slice(&strings);
    elf[verneed_off..verneed_off + verneed.len()].copy_from_slice(&verneed);
    let mut section = |index: usize, kind: u32, offset: usize, size: usize, link: u32, info: u32| {
        let at = shoff + index * 64;
        elf[at + 4..at + 8].copy_from_slice(&kind.to_le_bytes());
        elf[at + 24..at + 32].copy_from_slice(&(offset as u64).to_le_bytes());
        elf[at + 32..at + 40].copy_from_slice(&(size as u64).to_le_bytes());
        elf[at + 40..at + 44].copy_from_slice(&link.to_le_bytes());
        elf[at + 44..at + 48].copy_from_slice(&info.to_le_bytes());
    };
    section(1, 3, strtab_off, strings.len(), 0, 0); // SHT_STRTAB
    section(2, 0x6fff_fffe, verneed_off, verneed.len(), 1, 1); // SHT_GNU_verneed
    elf
}

#[test]
fn glibc_versions_are_read_from_verneed() {
    let elf = fake_elf(&["GLIBC_2.2.5", "GLIBC_2.17", "GLIBC_PRIVATE", "GLIBC_2.17"]);
    assert_eq!(
        elf::required_versions(&elf).expect("readable"),
        ["GLIBC_2.2.5", "GLIBC_2.17", "GLIBC_PRIVATE", "GLIBC_2.17"]
    );
    assert_eq!(elf::required_glibc(&elf).expect("readable"), [(2, 2), (2, 17)]);
    assert_eq!(check_glibc("validator", &elf).expect("old enough"), Some((2, 17)));
    assert_eq!(check_glibc("validator", &fake_elf(&["GLIBC_2.34"])).expect("AL2023"), Some(MAX_GLIBC));
    assert_eq!(check_glibc("static", &fake_elf(&[])).expect("static"), None);
    let too_new = check_glibc("provider", &fake_elf(&["GLIBC_2.17", "GLIBC_2.38"]));
    assert!(matches!(too_new, Err(PackageError::GlibcTooNew { found: (2, 38), .. })), "{too_new:?}");
    let text = too_new.map(|_| ()).expect_err("too new").to_string();
    assert_eq!(text, "provider requires GLIBC_2.38, newer than Amazon Linux 2023's 2.34");
    assert!(check_glibc("x", b"#!/bin/sh\n").is_err());
}

#[test]
fn zips_are_byte_identical_and_hold_one_executable_bootstrap() {
    let binary: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8 ^ (i / 997) as u8).collect();
    let first = zip_bytes("validator", &binary).expect("zip");
    let second = zip_bytes("validator", &binary).expect("zip");
    assert_eq!(first, second, "same binary, same bytes");
    assert!(first.len() < binary.len(), "deflated");
    assert_ne!(zip_bytes("validator", b"other").expect("zip"), first);

    // Raw headers: local file header, then the central directory entry.
    assert_eq!(&first[..4], b"PK\x03\x04");
    let u16_at = |at: usize| u16::from_le_bytes([first[at], first[at + 1]]);
    assert_eq!(u16_at(8), 8, "method deflate");
    assert_eq!((u16_at(10), u16_at(12)), (0, 0x21), "DOS time 00:00:00, date 1980-01-01");
    assert_eq!(u16_at(26), 9, "name length of 'bootstrap'");
    assert_eq!(u16_at(28), 0, "no extra field in the local header");
    assert_eq!(&first[30..39], b"bootstrap");
    let central = first.windows(4).position(|w| w == b"PK\x01\x02").expect("central directory");
    let c16 = |at: usize| u16_at(central + at);
    assert_eq!(c16(4) >> 8, 3, "made by Unix");
    assert_eq!((c16(30), c16(32)), (0, 0), "no extra field, no comment");
    let external =
        u32::from_le_bytes([first[central + 38], first[central + 39], first[central + 40], first[central + 41]]);
    assert_eq!(external >> 16, 0o100755, "regular file, rwxr-xr-x");

    let mut archive = zip::ZipArchive::new(Cursor::new(first)).expect("readable");
    assert_eq!(archive.len(), 1);
    let mut entry = archive.by_index(0).expect("entry");
    assert_eq!(entry.name().expect("a name"), "bootstrap");
    assert_eq!(entry.unix_mode(), Some(0o100755));
    assert_eq!(entry.compression(), zip::CompressionMethod::Deflated);
    assert_eq!(
        entry.last_modified().map(|t| (t.year(), t.month(), t.day(), t.hour(), t.minute(), t.second())),
        Some((1980, 1, 1, 0, 0, 0))
    );
    assert!(entry.extra_data().is_none_or(|d| d.is_empty()));
    let mut back = Vec::new();
    entry.read_to_end(&mut back).expect("inflates");
    assert_eq!(back, binary);
}

#[test]
fn a_missing_zigbuild_names_the_install_command() {
    let root = std::env::temp_dir().join(format!("sandboxc-no-venv-{}", std::process::id()));
    std::fs::create_dir_all(root.join("lambda/src")).expect("temp tree");
    std::fs::create_dir_all(root.join("contract/src")).expect("temp tree");
    std::fs::write(root.join("lambda/Cargo.toml"), "[package]\n").expect("temp file");
    let error = package_with(&root, &root.join(".venv"), &root.join("out")).expect_err("no .venv");
    let text = error.to_string();
    assert!(text.contains(".venv/bin/pip install cargo-zigbuild ziglang"), "{text}");
    assert!(!root.join("out").exists(), "nothing written");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn two_package_builds_give_identical_zips_for_amazon_linux_2023() {
    match std::env::var("SANDBOXC_PACKAGE_TEST").as_deref() {
        Ok("1") => {}
        _ if std::env::var_os("CI").is_some() => panic!(
            "CI is set but SANDBOXC_PACKAGE_TEST is not: export SANDBOXC_PACKAGE_TEST=1 (needs \
             .venv/bin/pip install cargo-zigbuild ziglang)"
        ),
        _ => {
            eprintln!("note: SANDBOXC_PACKAGE_TEST is not 1; skipping the real zigbuild packaging test");
            return;
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::temp_dir().join(format!("sandboxc-package-{}", std::process::id()));
    let files = identity::lambda_source_files(root).expect("sources");
    let before = identity::identity(&files);
    let first = package(root, &out.join("a")).expect("first build");
    let second = package(root, &out.join("b")).expect("second build");
    let changed = "the Lambda sources or Cargo.lock changed while the test ran";
    assert_eq!(first.identity, before, "{changed}");
    assert_eq!(second.identity, first.identity, "{changed}");
    assert_eq!(first.functions.len(), 2);
    for (a, b) in first.functions.iter().zip(&second.functions) {
        assert_eq!(a.zip_path, out.join("a").join(&first.identity).join(format!("{}.zip", a.function)));
        let (bytes_a, bytes_b) =
            (std::fs::read(&a.zip_path).expect("zip a"), std::fs::read(&b.zip_path).expect("zip b"));
        assert_eq!(bytes_a, bytes_b, "{}: byte-identical", a.function);
        assert_eq!(a.zip_sha256, b.zip_sha256);
        let glibc = a.max_glibc.expect("dynamically linked against glibc");
        assert!(glibc <= MAX_GLIBC, "{}: GLIBC_{}.{}", a.function, glibc.0, glibc.1);
        eprintln!("{}: {} bytes, newest GLIBC_{}.{}", a.function, a.zip_bytes, glibc.0, glibc.1);
    }
    let _ = std::fs::remove_dir_all(&out);
}
