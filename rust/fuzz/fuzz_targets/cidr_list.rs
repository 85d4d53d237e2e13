//! IP allowlists: never panic; every parsed network re-parses to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mcp_connect_core::ip;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(networks) = ip::parse_networks(text.lines()) {
        let canonical: Vec<String> = networks.iter().map(ToString::to_string).collect();
        let again = ip::parse_networks(canonical.iter().map(String::as_str)).expect("canonical form parses");
        assert_eq!(networks, again);
    }
    if let Ok(address) = ip::parse_address(text) {
        let _ = ip::check_public(address);
    }
});
