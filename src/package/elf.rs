//! The glibc symbol versions an x86-64 ELF binary requires, read from its
//! `.gnu.version_r` section (`SHT_GNU_verneed`), so packaging can prove a Lambda binary
//! runs on Amazon Linux 2023 (glibc 2.34).
//!
//! Layout (ELF-64, little-endian; System V gABI and the LSB "Symbol Versioning" chapter):
//! section headers at `e_shoff` (u64 at 0x28), `e_shentsize` (u16 at 0x3A), `e_shnum` (u16
//! at 0x3C); each header has `sh_type` (u32 at 4), `sh_offset` (u64 at 24), `sh_size` (u64
//! at 32), `sh_link` (u32 at 40, the string table), `sh_info` (u32 at 44, the entry count).
//! `Elf64_Verneed`: `vn_cnt` (u16 at 2), `vn_aux` (u32 at 8), `vn_next` (u32 at 12);
//! `Elf64_Vernaux`: `vna_name` (u32 at 8), `vna_next` (u32 at 12).

/// `SHT_GNU_verneed`.
const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;
/// Most entries followed in one chain (a real binary has a few dozen).
const MAX_ENTRIES: usize = 4096;

/// A glibc version such as `2.34` (`GLIBC_2.34`); a third component is ignored.
pub type GlibcVersion = (u32, u32);

/// Why the file could not be read as an ELF-64 little-endian binary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a readable ELF-64 little-endian binary: {0}")]
pub struct ElfError(pub String);

fn bad(what: &str) -> ElfError {
    ElfError(what.to_owned())
}

fn u16_at(data: &[u8], at: usize) -> Result<u16, ElfError> {
    let bytes = data.get(at..at + 2).ok_or_else(|| bad("truncated"))?;
    Ok(u16::from_le_bytes([bytes[0], bytes[1]]))
}

fn u32_at(data: &[u8], at: usize) -> Result<u32, ElfError> {
    let bytes = data.get(at..at + 4).ok_or_else(|| bad("truncated"))?;
    let mut b = [0u8; 4];
    b.copy_from_slice(bytes);
    Ok(u32::from_le_bytes(b))
}

fn u64_at(data: &[u8], at: usize) -> Result<usize, ElfError> {
    let bytes = data.get(at..at + 8).ok_or_else(|| bad("truncated"))?;
    let mut b = [0u8; 8];
    b.copy_from_slice(bytes);
    usize::try_from(u64::from_le_bytes(b)).map_err(|_| bad("offset too large"))
}

fn index(value: u32) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

struct Section<'a> {
    kind: u32,
    data: &'a [u8],
    link: u32,
    info: u32,
}

fn sections(elf: &[u8]) -> Result<Vec<Section<'_>>, ElfError> {
    if elf.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Err(bad("no ELF magic"));
    }
    if elf.get(4) != Some(&2) || elf.get(5) != Some(&1) {
        return Err(bad("not 64-bit little-endian"));
    }
    let shoff = u64_at(elf, 0x28)?;
    let shentsize = usize::from(u16_at(elf, 0x3a)?);
    let shnum = usize::from(u16_at(elf, 0x3c)?);
    if shentsize < 48 {
        return Err(bad("section header too small"));
    }
    let mut out = Vec::with_capacity(shnum);
    for i in 0..shnum {
        let at = shoff
            .checked_add(i.checked_mul(shentsize).ok_or_else(|| bad("overflow"))?)
            .ok_or_else(|| bad("overflow"))?;
        let kind = u32_at(elf, at + 4)?;
        let offset = u64_at(elf, at + 24)?;
        let size = u64_at(elf, at + 32)?;
        // SHT_NOBITS (8) has no file data.
        let data = if kind == 8 {
            &[][..]
        } else {
            let end = offset.checked_add(size).ok_or_else(|| bad("overflow"))?;
            elf.get(offset..end).ok_or_else(|| bad("section outside the file"))?
        };
        out.push(Section { kind, data, link: u32_at(elf, at + 40)?, info: u32_at(elf, at + 44)? });
    }
    Ok(out)
}

fn c_string(table: &[u8], at: usize) -> Result<&str, ElfError> {
    let rest = table.get(at..).ok_or_else(|| bad("string outside its table"))?;
    let end = rest.iter().position(|&b| b == 0).ok_or_else(|| bad("unterminated string"))?;
    std::str::from_utf8(&rest[..end]).map_err(|_| bad("string is not UTF-8"))
}

/// Every version name the binary requires (`GLIBC_2.17`, `GLIBC_PRIVATE`, `GCC_3.0`, ...),
/// in file order. Empty for a static binary.
pub fn required_versions(elf: &[u8]) -> Result<Vec<String>, ElfError> {
    let sections = sections(elf)?;
    let mut names = Vec::new();
    for section in sections.iter().filter(|s| s.kind == SHT_GNU_VERNEED) {
        let strings = sections.get(index(section.link)).ok_or_else(|| bad("verneed string table missing"))?.data;
        let data = section.data;
        let mut at = 0usize;
        for _ in 0..index(section.info).min(MAX_ENTRIES) {
            let count = usize::from(u16_at(data, at + 2)?);
            let mut aux = at + index(u32_at(data, at + 8)?);
            for _ in 0..count.min(MAX_ENTRIES) {
                names.push(c_string(strings, index(u32_at(data, aux + 8)?))?.to_owned());
                let next = index(u32_at(data, aux + 12)?);
                if next == 0 {
                    break;
                }
                aux = aux.checked_add(next).ok_or_else(|| bad("overflow"))?;
            }
            let next = index(u32_at(data, at + 12)?);
            if next == 0 {
                break;
            }
            at = at.checked_add(next).ok_or_else(|| bad("overflow"))?;
        }
    }
    Ok(names)
}

/// The numbered `GLIBC_x.y[.z]` versions the binary requires, sorted, without duplicates.
pub fn required_glibc(elf: &[u8]) -> Result<Vec<GlibcVersion>, ElfError> {
    let mut versions: Vec<GlibcVersion> = required_versions(elf)?.iter().filter_map(|name| parse_glibc(name)).collect();
    versions.sort_unstable();
    versions.dedup();
    Ok(versions)
}

/// `GLIBC_2.34` -> `(2, 34)`; `GLIBC_2.2.5` -> `(2, 2)`; anything else -> `None`.
pub fn parse_glibc(name: &str) -> Option<GlibcVersion> {
    let mut parts = name.strip_prefix("GLIBC_")?.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse() {
        assert_eq!(parse_glibc("GLIBC_2.34"), Some((2, 34)));
        assert_eq!(parse_glibc("GLIBC_2.2.5"), Some((2, 2)));
        assert_eq!(parse_glibc("GLIBC_PRIVATE"), None);
        assert_eq!(parse_glibc("GCC_3.0"), None);
        assert!((2, 17) < (2, 34) && (2, 34) < (2, 38));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(required_versions(b"").is_err());
        assert!(required_versions(b"\x7fELF\x02\x01").is_err());
        let mut header = vec![0u8; 64];
        header[..6].copy_from_slice(b"\x7fELF\x02\x01");
        header[0x28] = 0xff;
        header[0x3a] = 64;
        header[0x3c] = 3;
        assert!(required_versions(&header).is_err());
    }

    #[test]
    fn reads_a_real_binary() {
        // Any dynamically linked binary of the host will do.
        let Ok(elf) = std::fs::read("/bin/sh") else {
            return;
        };
        let versions = required_glibc(&elf).unwrap_or_default();
        assert!(versions.iter().all(|v| v.0 == 2), "{versions:?}");
    }
}
