"""Binding-level benchmark: mcp_connect_core against pure-Python equivalents, measured in one run.

Each pair does the same work. The figure reported is the ratio of medians
(Python time / core time for speed-ups; core time / argon2-cffi time for the
hashing cost, where equal cost is the goal because the cost is the security).
"""

import base64
import hashlib
import hmac
import ipaddress
import json
import re
import secrets
import statistics
import sys
import timeit
import zlib

import argon2
import mcp_connect_core as core

VERIFIER_RE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def policy_document():
    return {
        "allowed_tools": [f"tool_{i}" for i in range(10)],
        "allowed_models": {f"model.m{i}": ["read", "write"] for i in range(20)},
        "ip_allowlist": [f"10.{i}.0.0/16" for i in range(50)],
        "approval_tools": ["tool_9"],
    }


# --- pure-Python equivalents ----------------------------------------------------------


def _base62(number, width):
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 62)
        digits.append(BASE62[rest])
    return "".join(reversed(digits))


def py_mint():
    body = "mcpat_" + _base62(int.from_bytes(secrets.token_bytes(32), "big"), 43)
    token = body + _base62(zlib.crc32(body.encode()), 6)
    return token, hashlib.sha256(token.encode()).hexdigest()


def py_digest(token):
    if len(token) != 55 or not token.startswith("mcpat_") or not token[6:].isalnum():
        raise ValueError("malformed token")
    if _base62(zlib.crc32(token[:49].encode()), 6) != token[49:]:
        raise ValueError("malformed token")
    return hashlib.sha256(token.encode()).hexdigest()


def py_pkce(verifier, challenge):
    if not VERIFIER_RE.match(verifier):
        raise ValueError("invalid verifier")
    computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    if not hmac.compare_digest(computed, challenge):
        raise ValueError("mismatch")


class PyPolicy:
    def __init__(self, document):
        self.tools = set(document["allowed_tools"])
        self.models = {name: set(ops) for name, ops in document["allowed_models"].items()}
        self.approval = set(document["approval_tools"])
        self.networks = [ipaddress.ip_network(n) for n in document["ip_allowlist"]]

    def evaluate(self, tool, required_scope, granted_scopes, model, operation, client_ip):
        address = ipaddress.ip_address(client_ip)
        if address.version == 6 and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not any(address in network for network in self.networks):
            return "deny"
        if required_scope not in granted_scopes:
            return "deny"
        if tool not in self.tools:
            return "deny"
        operations = self.models.get(model)
        if operations is None or operation not in operations:
            return "deny"
        return "needs_approval" if tool in self.approval else "allow"


# --- measurement ----------------------------------------------------------------------


def median_seconds(function, number, repeat=7):
    timings = timeit.repeat(function, number=number, repeat=repeat)
    return statistics.median(timings) / number


def main():
    token, _ = core.mint_token(kind="access")
    py_token, _ = py_mint()
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    document = policy_document()
    rust_policy = core.Policy(json.dumps(document))
    py_policy = PyPolicy(document)
    call = {
        "tool": "tool_5",
        "required_scope": "mcp:read",
        "granted_scopes": ["mcp:read", "mcp:write"],
        "model": "model.m19",
        "operation": "read",
        "client_ip": "10.49.3.4",
    }
    assert rust_policy.evaluate(**call).outcome == py_policy.evaluate(**call) == "allow"
    hasher = argon2.PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16)
    ours_hash = core.hash_secret("mcpcs_bench-secret")
    theirs_hash = hasher.hash("mcpcs_bench-secret")

    rows = [
        ("token mint + digest", lambda: core.mint_token(kind="access"), py_mint, 20000, "speed-up"),
        (
            "token digest (presented)",
            lambda: core.digest_token(token, kind="access"),
            lambda: py_digest(py_token),
            50000,
            "speed-up",
        ),
        (
            "PKCE S256 verify",
            lambda: core.verify_pkce(verifier=verifier, challenge=challenge, method="S256"),
            lambda: py_pkce(verifier, challenge),
            50000,
            "speed-up",
        ),
        (
            "policy evaluate (10 tools, 20 models, 50 CIDRs)",
            lambda: rust_policy.evaluate(**call),
            lambda: py_policy.evaluate(**call),
            20000,
            "speed-up",
        ),
        (
            "argon2id hash (19 MiB, t=2, p=1)",
            lambda: core.hash_secret("mcpcs_bench-secret"),
            lambda: hasher.hash("mcpcs_bench-secret"),
            10,
            "cost",
        ),
        (
            "argon2id verify",
            lambda: core.verify_secret(secret="mcpcs_bench-secret", phc=ours_hash),
            lambda: hasher.verify(theirs_hash, "mcpcs_bench-secret"),
            10,
            "cost",
        ),
    ]
    print(f"{'operation':<50} {'mcp_connect_core':>17} {'pure Python/cffi':>17} {'ratio':>14}")
    results = {}
    for name, ours, theirs, number, kind in rows:
        ours_s = median_seconds(ours, number)
        theirs_s = median_seconds(theirs, number)
        if kind == "speed-up":
            ratio = theirs_s / ours_s
            shown = f"{ratio:6.1f}x faster"
        else:
            ratio = ours_s / theirs_s
            shown = f"{ratio:6.2f}x cost"
        results[name] = ratio
        print(f"{name:<50} {format_time(ours_s):>17} {format_time(theirs_s):>17} {shown:>14}")
    print()
    print(f"Python {sys.version.split()[0]}, argon2-cffi {argon2_version()}, medians of 7 runs")
    return results


def format_time(seconds):
    if seconds < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} us"
    return f"{seconds * 1e3:.2f} ms"


def argon2_version():
    from importlib.metadata import version

    return version("argon2-cffi")


if __name__ == "__main__":
    main()
