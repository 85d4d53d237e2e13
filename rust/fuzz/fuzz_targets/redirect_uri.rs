//! Redirect URIs: never panic; what validates has no fragment or credentials and matches itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mcp_connect_core::redirect::{self, ClientKind};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (presented, registered) = text.split_once('\n').unwrap_or((text, "https://client.example/cb"));
    for kind in [ClientKind::Custom, ClientKind::Dynamic, ClientKind::MetadataDocument] {
        if redirect::validate(presented, kind).is_ok() {
            assert!(!presented.contains('#'));
            assert!(redirect::find_match(presented, &[presented], &[]).is_ok());
        }
    }
    if redirect::find_match(presented, &[registered], &["https://chatgpt.com/connector/oauth/"]).is_ok() {
        assert!(!presented.contains('#'));
    }
});
