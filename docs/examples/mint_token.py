#!/usr/bin/env python3
"""Mint a dataset access token for pp-embed with the Python standard library alone (HS256).

The token contract is in docs/token-contract.md. The secret is the one the visualization server's
dsCredentials entry holds; it is read from the environment, never from an argument.

    PP_DS_SECRET=... python3 mint_token.py --dataset TermdbTest --email ana@example.org --ip 203.0.113.7

prints the token. Send it in the x-ds-access-token header (or the entry's headerKey), never in a URL.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import time
import uuid


def b64url(data: bytes) -> str:
    # RFC 7515 §2: base64url without padding.
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def mint(secret: bytes, datasets, email, ip=None, ttl=600, client_auth_result=None, now=None) -> str:
    if len(secret) < 32:
        # RFC 7518 §3.2: an HS256 key is at least 256 bits; the server refuses shorter secrets.
        raise ValueError("the secret must be at least 32 bytes")
    iat = int(time.time() if now is None else now)
    claims = {"datasets": list(datasets), "email": email, "iat": iat, "exp": iat + ttl, "jti": str(uuid.uuid4())}
    if ip is not None:
        # The address the visualization server sees for the browser (after its trustProxy rule). Leave it out
        # only when the server's entry says "ipCheck": "loose" or "none".
        claims["ip"] = ip
    if client_auth_result is not None:
        claims["clientAuthResult"] = client_auth_result
    header = {"alg": "HS256", "typ": "JWT"}
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(claims, separators=(",", ":")).encode())
    )
    signature = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return signing_input + "." + b64url(signature)


def main() -> int:
    parser = argparse.ArgumentParser(description="Mint a pp-embed dataset access token (HS256).")
    parser.add_argument("--dataset", action="append", required=True, help="a dataset label; repeat for more")
    parser.add_argument("--email", required=True, help="the portal's identifier for the user")
    parser.add_argument("--ip", help="the client address the token is pinned to")
    parser.add_argument("--ttl", type=int, default=600, help="lifetime in seconds (default 600)")
    parser.add_argument("--client-auth-result", help='role data as JSON, e.g. {"cohorts":["ABC"]}')
    parser.add_argument("--secret-env", default="PP_DS_SECRET", help="the variable holding the secret")
    args = parser.parse_args()
    secret = os.environ.get(args.secret_env, "")
    if secret == "":
        print(f"{args.secret_env} is not set", file=sys.stderr)
        return 2
    car = json.loads(args.client_auth_result) if args.client_auth_result else None
    print(mint(secret.encode("utf-8"), args.dataset, args.email, args.ip, args.ttl, car))
    return 0


if __name__ == "__main__":
    sys.exit(main())
