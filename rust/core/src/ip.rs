//! IP addresses: allowlists (CIDR v4/v6) and the address ranges an outbound
//! fetch (client ID metadata documents) must never reach.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::error::{Error, Result};

/// Longest allowlist entry echoed back in an error.
const MAX_ECHO: usize = 64;

/// Parse an address, unwrapping IPv4-mapped IPv6 (`::ffff:10.0.0.1` is `10.0.0.1`)
/// so one rule covers both spellings of the same peer.
///
/// # Errors
/// [`Error::InvalidIpAddress`] when `text` is not an address.
pub fn parse_address(text: &str) -> Result<IpAddr> {
    let trimmed = text.trim();
    // Zone identifiers (fe80::1%eth0) never identify a remote peer.
    let address: IpAddr = trimmed.parse().map_err(|_| Error::InvalidIpAddress)?;
    Ok(normalize(address))
}

/// Unwrap IPv4-mapped IPv6 addresses.
#[must_use]
pub fn normalize(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    }
}

fn parse_network(entry: &str) -> Option<IpNet> {
    if let Ok(net) = entry.parse::<IpNet>() {
        let net = match net {
            IpNet::V6(v6) if v6.addr().to_ipv4_mapped().is_some() && v6.prefix_len() >= 96 => {
                let v4 = v6.addr().to_ipv4_mapped()?;
                IpNet::new(IpAddr::V4(v4), v6.prefix_len() - 96).ok()?
            }
            other => other,
        };
        return Some(net.trunc());
    }
    let address = parse_address(entry).ok()?;
    Some(IpNet::from(address))
}

/// Parse allowlist entries (one address or CIDR network each; blank entries and
/// `#` comments are skipped) into canonical networks.
///
/// # Errors
/// [`Error::InvalidCidr`] naming the first bad entry and its 1-based position.
pub fn parse_networks<'a, I>(entries: I) -> Result<Vec<IpNet>>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut networks = Vec::new();
    for (index, raw) in entries.into_iter().enumerate() {
        let entry = raw.split('#').next().unwrap_or("").trim();
        if entry.is_empty() {
            continue;
        }
        let network = parse_network(entry).ok_or_else(|| Error::InvalidCidr {
            line: index + 1,
            entry: entry.chars().take(MAX_ECHO).collect(),
        })?;
        networks.push(network);
    }
    Ok(networks)
}

/// Whether `address` is inside any of `networks`.
#[must_use]
pub fn contains_any(networks: &[IpNet], address: IpAddr) -> bool {
    let address = normalize(address);
    networks.iter().any(|net| net.contains(&address))
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if ip.is_unspecified() || a == 0 {
        Some("this network")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared address space")
    } else if a == 192 && b == 0 && c == 0 {
        Some("IETF protocol assignments")
    } else if ip.is_documentation() {
        Some("documentation")
    } else if a == 198 && (b == 18 || b == 19) {
        Some("benchmarking")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if a >= 240 {
        Some("reserved")
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let segments = ip.segments();
    if ip.is_unspecified() {
        Some("unspecified")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if segments[0] & 0xfe00 == 0xfc00 {
        Some("unique local")
    } else if segments[0] & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if segments[0] & 0xffc0 == 0xfec0 {
        Some("site-local")
    } else if segments[0] == 0x2001 && segments[1] == 0x0db8 {
        Some("documentation")
    } else if segments[0] == 0x0064 && segments[1] == 0xff9b {
        // NAT64 can reach any IPv4 address, private ones included.
        Some("NAT64")
    } else if segments[0] == 0x2002 {
        // 6to4 embeds an IPv4 address that may be private.
        Some("6to4")
    } else if segments[..6] == [0, 0, 0, 0, 0, 0] {
        Some("IPv4-compatible")
    } else {
        None
    }
}

/// Refuse addresses an outbound fetch must never reach: loopback, private,
/// link-local, shared, reserved, multicast, documentation and translation ranges,
/// including their IPv4-mapped IPv6 forms.
///
/// # Errors
/// [`Error::ForbiddenAddress`] naming the range.
pub fn check_public(address: IpAddr) -> Result<()> {
    let reason = match normalize(address) {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    };
    reason.map_or(Ok(()), |range| Err(Error::ForbiddenAddress(range)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn mapped_addresses_are_normalised() {
        assert_eq!(parse_address("::ffff:10.1.2.3").unwrap(), ip("10.1.2.3"));
        assert_eq!(parse_address(" 2001:db8::1 ").unwrap(), ip("2001:db8::1"));
        assert_eq!(parse_address("10.0.0.256"), Err(Error::InvalidIpAddress));
        assert_eq!(parse_address(""), Err(Error::InvalidIpAddress));
    }

    #[test]
    fn networks_parse_with_comments_blanks_and_bare_addresses() {
        let nets = parse_networks([
            "10.0.0.0/8",
            "",
            "  # office",
            "2001:db8::/32 # v6",
            "192.0.2.7",
            "10.1.2.3/8",
        ])
        .unwrap();
        let shown: Vec<String> = nets.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32", "10.0.0.0/8"]
        );
    }

    #[test]
    fn mapped_networks_become_ipv4() {
        let nets = parse_networks(["::ffff:10.0.0.0/104"]).unwrap();
        assert_eq!(nets[0].to_string(), "10.0.0.0/8");
    }

    #[test]
    fn bad_entries_name_their_line() {
        let err = parse_networks(["10.0.0.0/8", "10.0.0.0/33"]).unwrap_err();
        assert_eq!(
            err,
            Error::InvalidCidr {
                line: 2,
                entry: "10.0.0.0/33".into()
            }
        );
        assert!(err.to_string().contains("line 2"));
        let err = parse_networks(["", "office wifi"]).unwrap_err();
        assert_eq!(
            err,
            Error::InvalidCidr {
                line: 2,
                entry: "office wifi".into()
            }
        );
        let long = "x".repeat(500);
        match parse_networks([long.as_str()]).unwrap_err() {
            Error::InvalidCidr { entry, .. } => assert_eq!(entry.len(), MAX_ECHO),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn containment_covers_both_spellings() {
        let nets = parse_networks(["10.0.0.0/8", "2001:db8::/32"]).unwrap();
        assert!(contains_any(&nets, ip("10.9.9.9")));
        assert!(contains_any(&nets, ip("::ffff:10.9.9.9")));
        assert!(contains_any(&nets, ip("2001:db8::5")));
        assert!(!contains_any(&nets, ip("11.0.0.1")));
        assert!(!contains_any(&nets, ip("2001:db9::1")));
    }

    #[test]
    fn outbound_fetch_targets() {
        for bad in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:a00:1::",
            "::127.0.0.1",
            "192.0.2.1",
            "2001:db8::1",
            "198.18.0.1",
            "ff02::1",
        ] {
            assert!(check_public(ip(bad)).is_err(), "{bad} should be refused");
        }
        for good in [
            "1.1.1.1",
            "8.8.8.8",
            "160.79.104.10",
            "2606:4700:4700::1111",
        ] {
            assert_eq!(check_public(ip(good)), Ok(()), "{good}");
        }
    }

    proptest! {
        #[test]
        fn parse_networks_never_panics(entries in proptest::collection::vec(".{0,50}", 0..5)) {
            let _ = parse_networks(entries.iter().map(String::as_str));
        }

        #[test]
        fn every_v4_address_is_inside_its_own_slash_24(a in any::<u32>()) {
            let address = Ipv4Addr::from(a);
            let entry = format!("{address}/24");
            let nets = parse_networks([entry.as_str()]).unwrap();
            prop_assert!(contains_any(&nets, IpAddr::V4(address)));
            let mapped = IpAddr::V6(address.to_ipv6_mapped());
            prop_assert!(contains_any(&nets, mapped));
        }
    }
}
