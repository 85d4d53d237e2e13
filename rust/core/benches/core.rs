//! Criterion benchmarks of the core primitives (`make bench`).
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use mcp_connect_core::policy::{Call, Operation, Policy};
use mcp_connect_core::token::{self, TokenKind};
use mcp_connect_core::{pkce, secret};

/// The benchmark policy (for "policy evaluate"): 10 tools, 20 models, 50 CIDR networks (the address under
/// test is in the last one, so every network is examined).
fn bench_policy_document() -> String {
    let tools: Vec<String> = (0..10).map(|i| format!("\"tool_{i}\"")).collect();
    let models: Vec<String> = (0..20)
        .map(|i| format!("\"model.m{i}\": [\"read\", \"write\"]"))
        .collect();
    let cidrs: Vec<String> = (0..50).map(|i| format!("\"10.{i}.0.0/16\"")).collect();
    format!(
        "{{\"allowed_tools\": [{}], \"allowed_models\": {{{}}}, \"ip_allowlist\": [{}], \"approval_tools\": [\"tool_9\"]}}",
        tools.join(","),
        models.join(","),
        cidrs.join(",")
    )
}

fn tokens(c: &mut Criterion) {
    c.bench_function("token mint+digest", |b| {
        b.iter(|| token::mint(black_box(TokenKind::Access)));
    });
    let minted = token::mint(TokenKind::Access);
    c.bench_function("token digest presented", |b| {
        b.iter(|| token::digest(black_box(&minted.token), TokenKind::Access).unwrap());
    });
}

fn pkce_verify(c: &mut Criterion) {
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    c.bench_function("pkce verify S256", |b| {
        b.iter(|| pkce::verify(black_box(verifier), black_box(challenge), "S256").unwrap());
    });
}

fn policy_evaluate(c: &mut Criterion) {
    let policy = Policy::compile(&bench_policy_document()).unwrap();
    let scopes = ["mcp:read", "mcp:write"];
    let call = Call {
        tool: "tool_5",
        model: Some("model.m19"),
        operation: Some(Operation::Read),
        client_ip: Some("10.49.3.4".parse().unwrap()),
        granted_scopes: &scopes,
        required_scope: "mcp:read",
    };
    c.bench_function("policy evaluate", |b| {
        b.iter(|| policy.evaluate(black_box(&call)));
    });
    c.bench_function("policy compile", |b| {
        let document = bench_policy_document();
        b.iter(|| Policy::compile(black_box(&document)).unwrap());
    });
}

fn argon2id(c: &mut Criterion) {
    let mut group = c.benchmark_group("argon2id");
    group.sample_size(20);
    group.bench_function("hash", |b| {
        b.iter(|| secret::hash(black_box("mcpcs_benchmark-secret")));
    });
    let phc = secret::hash("mcpcs_benchmark-secret");
    group.bench_function("verify", |b| {
        b.iter(|| secret::verify(black_box("mcpcs_benchmark-secret"), &phc).unwrap());
    });
    group.finish();
}

criterion_group!(benches, tokens, pkce_verify, policy_evaluate, argon2id);
criterion_main!(benches);
