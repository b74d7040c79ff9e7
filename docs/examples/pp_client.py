#!/usr/bin/env python3
"""Read a pp-embed dataset from a script, with the Python standard library alone.

A personal API token (made on the portal's "API tokens" page) is exchanged at the portal for a dataset token of a
few minutes (OAuth 2.0, the refresh_token grant), which is exchanged again before it expires; requests to the
visualization server carry it as a Bearer token. The sample table is read as TSV as it arrives, one row at a time.

The API token is read from the environment (PP_API_TOKEN), never from an argument or the script's text:

    export PP_API_TOKEN=ppat_...
    python3 pp_client.py --portal https://portal.example.org --viz-server https://viz.example.org \\
        rows --dataset TermdbTest --term agedx          # sample<TAB>value, one line per sample
    python3 pp_client.py --portal ... --viz-server ... access     # what the token opens, as JSON
    python3 pp_client.py --portal ... --viz-server ... barchart --dataset TermdbTest --term sex

A refusal is printed with its code (invalid_grant, insufficient_scope, ...) and the exit code is 1.
"""
import argparse
import csv
import io
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

CLIENT_ID = "pp-scripts"


class Refused(Exception):
    """The portal or the visualization server refused, with its stable code."""

    def __init__(self, status, code, message):
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code


def _read_json(response_or_error):
    try:
        return json.loads(response_or_error.read().decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}


class Client:
    """One script's access: the API token, the dataset token it was last exchanged for, and requests with it."""

    def __init__(self, portal, viz_server, api_token, datasets=None, refresh_margin=60, timeout=30):
        if not api_token:
            raise ValueError("no API token: set PP_API_TOKEN")
        self.portal = portal.rstrip("/")
        self.viz_server = viz_server.rstrip("/")
        self._api_token = api_token.strip()
        self._scope = " ".join(f"dataset:{d}" for d in (datasets or []))
        self._margin = refresh_margin
        self._timeout = timeout
        self._token = None
        self._refresh_at = 0.0
        self.exchanges = 0

    def access_token(self):
        """The dataset token; exchanged again `refresh_margin` seconds before it expires (a monotonic clock, so
        that a wrong system clock does not matter)."""
        if self._token is None or time.monotonic() >= self._refresh_at:
            self._exchange()
        return self._token

    def _exchange(self):
        fields = {"grant_type": "refresh_token", "refresh_token": self._api_token, "client_id": CLIENT_ID}
        if self._scope:
            fields["scope"] = self._scope
        request = urllib.request.Request(
            f"{self.portal}/oauth/token",
            data=urllib.parse.urlencode(fields).encode("ascii"),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            method="POST",
        )
        asked = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                body = _read_json(response)
        except urllib.error.HTTPError as error:
            body = _read_json(error)
            raise Refused(error.code, body.get("error", "unexpected_response"), body.get("error_description", ""))
        lifetime = float(body["expires_in"])
        self._token = body["access_token"]
        # Early by the margin; at half the lifetime when the portal's tokens do not outlive the margin.
        self._refresh_at = asked + (lifetime - self._margin if lifetime > self._margin else lifetime / 2)
        self.exchanges += 1

    def get(self, path, params, accept="application/json"):
        """GET a route of the visualization server. A token that expired or was revoked on the way (401
        token_expired, token_revoked) is exchanged again once."""
        url = f"{self.viz_server}{path}?{urllib.parse.urlencode(params)}"
        for attempt in (0, 1):
            request = urllib.request.Request(
                url, headers={"Authorization": f"Bearer {self.access_token()}", "Accept": accept}
            )
            try:
                return urllib.request.urlopen(request, timeout=self._timeout)
            except urllib.error.HTTPError as error:
                body = _read_json(error).get("error", {})
                code = body.get("code", "unexpected_response")
                if attempt == 0 and error.code == 401 and code in ("token_expired", "token_revoked"):
                    self._token = None
                    continue
                raise Refused(error.code, code, body.get("message", ""))

    def json(self, path, params):
        with self.get(path, params) as response:
            return json.loads(response.read().decode("utf-8"))

    def sample_rows(self, dataset, term):
        """Every row of a term's sample table, as (sample, value) text pairs, read as the TSV answer arrives."""
        response = self.get(
            "/termdb/samples",
            {"dslabel": dataset, "term": term, "format": "tsv"},
            accept="text/tab-separated-values",
        )
        with response:
            reader = csv.reader(io.TextIOWrapper(response, encoding="utf-8", newline=""), delimiter="\t")
            next(reader, None)  # the header: sample, then the term's name
            for record in reader:
                yield record[0], record[1]

    def access(self):
        """What the API token opens now: its datasets with their route classes and cohorts, and its expiry."""
        request = urllib.request.Request(
            f"{self.portal}/api/access",
            headers={"Authorization": f"Bearer {self._api_token}", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return _read_json(response)
        except urllib.error.HTTPError as error:
            body = _read_json(error).get("error", {})
            raise Refused(error.code, body.get("code", "unexpected_response"), body.get("message", ""))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--portal", required=True)
    parser.add_argument("--viz-server", required=True)
    parser.add_argument("--refresh-margin", type=float, default=60, help="seconds before expiry to exchange again")
    commands = parser.add_subparsers(dest="command", required=True)
    rows = commands.add_parser("rows", help="every row of a term's sample table, sample<TAB>value")
    chart = commands.add_parser("barchart", help="a term's counts as JSON; --repeat and --interval to watch them")
    for sub in (rows, chart):
        sub.add_argument("--dataset", required=True)
        sub.add_argument("--term", required=True)
    chart.add_argument("--repeat", type=int, default=1)
    chart.add_argument("--interval", type=float, default=0)
    commands.add_parser("access", help="what the API token opens, as JSON")
    args = parser.parse_args(argv)

    client = Client(
        args.portal,
        args.viz_server,
        os.environ.get("PP_API_TOKEN", ""),
        datasets=[args.dataset] if args.command != "access" else None,
        refresh_margin=args.refresh_margin,
    )
    out = sys.stdout
    try:
        if args.command == "access":
            json.dump(client.access(), out, indent=2)
            out.write("\n")
        elif args.command == "rows":
            for sample, value in client.sample_rows(args.dataset, args.term):
                out.write(f"{sample}\t{value}\n")
        else:
            for i in range(args.repeat):
                if i > 0:
                    time.sleep(args.interval)
                chart = client.json("/termdb/barchart", {"dslabel": args.dataset, "term": args.term})
                out.write(json.dumps({"bars": chart["bars"], "exchanges": client.exchanges}) + "\n")
    except Refused as refused:
        print(refused, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
