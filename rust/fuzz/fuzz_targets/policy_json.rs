//! Policy documents: never panic, whatever the JSON; evaluation of a compiled policy never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mcp_connect_core::policy::{Call, Operation, Policy};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(policy) = Policy::compile(text) {
        let scopes = ["mcp:read"];
        let call = Call {
            tool: "search_records",
            model: Some("res.partner"),
            operation: Some(Operation::Read),
            client_ip: "10.1.2.3".parse().ok(),
            granted_scopes: &scopes,
            required_scope: "mcp:read",
        };
        let _ = policy.evaluate(&call);
    }
});
