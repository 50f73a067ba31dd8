#!/usr/bin/env python3
"""API fuzzing (SECURITY.md S18): schemathesis against /api/openapi.json of a demo server, as each
role. Run through scripts/api_fuzz.sh, which makes the venv; this file is the driver.

Starts the built `peixun serve --demo` on a free loopback port with a fresh data folder, logs in as
each role, and runs schemathesis once per role (anonymous first, sysadmin last) with a bounded
number of examples per operation: anonymous on every operation, each role on the operations the
route table lets it call (the document's `x-roles`). Checks: no 5xx (not_a_server_error), every response matches the
documented schema and status codes, no panic/backtrace/SQL in any body, and the role's own token is
never refused mid-run. The login, logout and password routes run last, as a throwaway account,
so that they can neither lock out nor log out the accounts the other runs use.

Exit 0 only when every run passed. Prints a table: role, operations, examples (test cases sent),
failures (distinct operation × check × kind), 5xx responses, errors (operations schemathesis could
not test). "no_token" is every signed-in operation once without a token (each must answer 401);
"auth" is login, logout and password change, run last as a throwaway account.

Environment: PEIXUN_BIN (the binary), PEIXUN_FUZZ_EXAMPLES (per operation, default 4),
PEIXUN_FUZZ_SEED (default 2026), PEIXUN_FUZZ_ROLES (comma-separated subset), PEIXUN_FUZZ_WORKERS
(default 1: with more, hypothesis under Python 3.11 now and then fails in its own code with "AST
constructor recursion depth mismatch"; such a tool error with no failed check is run once more
with one worker), PEIXUN_FUZZ_KEEP (keep the data folder and reports), SCHEMATHESIS (the executable).
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

PASSWORD = "Peixun#Demo2026"
# Order matters: runs that can change what later runs see (the centre, the sysadmin) come last.
ROLES = [
    "anonymous",
    "inst_a_admin",
    "auditor",
    "bureau",
    "centre_staff",
    "centre_admin",
    "sysadmin",
]
AUTH_ROUTES = r"^/api/v1/auth/"
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "no_internals",
    "role_token_kept",
]

HERE = Path(__file__).resolve().parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(base, method, path, body=None, token=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def login(base, username, password=PASSWORD):
    status, body = http(base, "POST", "/api/v1/auth/login", {"username": username, "password": password})
    if status != 200:
        raise SystemExit(f"api_fuzz: login as {username} failed: {status} {body}")
    return body["token"]


def make_account(base, tokens, username):
    """An institution clerk's account, issued by two people as the application requires (S7): the
    sysadmin creates it and gets the first half of the one-time password, centre_admin confirms
    and gets the second. Returns (id, one-time password)."""
    status, made = http(base, "POST", "/api/v1/users",
                        {"username": username, "display_name": "模糊测试临时账户",
                         "role": "institution_staff", "institution_id": 1},
                        token=tokens["sysadmin"])
    if status != 201:
        raise SystemExit(f"api_fuzz: could not create the account {username}: {status} {made}")
    request = made["credential"]["request"]["id"]
    status, confirmed = http(base, "POST", f"/api/v1/credential-requests/{request}/confirm", None,
                             token=tokens["centre_admin"])
    if status != 200:
        raise SystemExit(f"api_fuzz: could not confirm the account {username}: {status} {confirmed}")
    return made["user"]["id"], f"{made['credential']['half']}-{confirmed['half']}"


def wait_healthy(base, proc, seconds=300):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"api_fuzz: the server exited with {proc.returncode} before /healthz answered")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"api_fuzz: /healthz did not answer within {seconds} s")


METHODS = ("get", "put", "post", "delete", "patch")


def load_document(schema_url):
    with urllib.request.urlopen(schema_url, timeout=30) as r:
        return json.loads(r.read())


def document_for(doc, keep):
    """A copy of the document with only the operations `keep(method, path, op)` accepts."""
    out = json.loads(json.dumps(doc))
    paths = {}
    for path, item in doc.get("paths", {}).items():
        kept = {m: op for m, op in item.items() if m not in METHODS or keep(m, path, op)}
        if any(m in METHODS for m in kept):
            paths[path] = kept
    out["paths"] = paths
    return out


def role_may_call(role_code):
    """The operations the route table lets the role call (`x-roles`), besides public ones; the
    403 of every other role × route pair is the route-table test's business (S5)."""
    return lambda m, path, op: "x-roles" not in op or role_code in op["x-roles"]


def summarize(ndjson_path):
    """Operations tested, test cases sent, failures (unique per operation, check and kind), 5xx
    responses, and errors (operations schemathesis could not test), from the NDJSON report."""
    ops, cases, failures, server_errors, errors = set(), set(), set(), 0, 0
    if not ndjson_path.exists():
        return ops, cases, failures, server_errors, errors
    for line in ndjson_path.read_text().splitlines():
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if "NonFatalError" in ev:
            errors += 1
        payload = ev.get("ScenarioFinished")
        if not isinstance(payload, dict):
            continue
        rec = payload.get("recorder") or {}
        label = rec.get("label")
        if payload.get("status") != "skip" and label:
            ops.add(label)
        cases.update((rec.get("cases") or {}).keys())
        for inter in (rec.get("interactions") or {}).values():
            resp = (inter or {}).get("response") or {}
            if int(resp.get("status_code") or 0) >= 500:
                server_errors += 1
        for checks in (rec.get("checks") or {}).values():
            for c in checks:
                if str(c.get("status")).lower() == "failure":
                    f = (c.get("failure_info") or {}).get("failure") or {}
                    failures.add((label, c.get("name"), f.get("title", "")))
    return ops, cases, failures, server_errors, errors


def main():
    st = os.environ.get("SCHEMATHESIS") or shutil.which("schemathesis")
    if not st:
        raise SystemExit("api_fuzz: schemathesis not found (run scripts/api_fuzz.sh)")
    target = os.environ.get("CARGO_TARGET_DIR", str(HERE.parent / "target"))
    binary = os.environ.get("PEIXUN_BIN") or os.path.join(target, "debug", "peixun")
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"api_fuzz: no peixun binary at {binary} (build it, or set PEIXUN_BIN)")
    examples = int(os.environ.get("PEIXUN_FUZZ_EXAMPLES", "4"))
    seed = os.environ.get("PEIXUN_FUZZ_SEED", "2026")
    workers = os.environ.get("PEIXUN_FUZZ_WORKERS", "1")
    wanted = [r for r in os.environ.get("PEIXUN_FUZZ_ROLES", ",".join(ROLES + ["auth"])).split(",") if r]

    work = Path(tempfile.mkdtemp(prefix="peixun-fuzz-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(work / "server.log", "w")
    started = time.time()
    proc = subprocess.Popen(
        [binary, "serve", "--demo", "--addr", f"127.0.0.1:{port}", "--data-dir", str(work / "data")],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    results = []
    ok = True
    try:
        wait_healthy(base, proc)
        print(f"api_fuzz: demo server on {base} ready in {time.time() - started:.0f} s; "
              f"schemathesis {examples} examples/operation, seed {seed}", flush=True)
        schema_url = base + "/api/openapi.json"
        doc = load_document(schema_url)
        all_ops = [(m, p) for p, item in doc["paths"].items() for m in item if m in METHODS]
        tokens = {r: login(base, r) for r in ROLES if r != "anonymous"}
        me = {r: http(base, "GET", "/api/v1/me", token=t)[1] for r, t in tokens.items()}
        ids = {r: m["id"] for r, m in me.items()}
        not_auth = lambda m, path, op: not re.match(AUTH_ROUTES, path)  # noqa: E731
        # A throwaway account: the target of the sysadmin's account routes (deactivate, reset).
        throwaway_id, _ = make_account(base, tokens, "fuzz_target")
        protect = ",".join(str(i) for i in ids.values())

        signed_in = lambda m, path, op: "x-roles" in op  # noqa: E731
        runs = []  # (name, keep, token, phases, examples, workers)
        for role in wanted:
            if role == "anonymous":
                # The public operations in full; every signed-in one must answer 401 without a token.
                runs.append(("anonymous", lambda m, p, op: not_auth(m, p, op) and not signed_in(m, p, op),
                             None, "examples,coverage,fuzzing", examples, workers))
                runs.append(("no_token", lambda m, p, op: not_auth(m, p, op) and signed_in(m, p, op),
                             None, "fuzzing", 1, workers))
            elif role == "auth":
                runs.append(("auth", lambda m, p, op: bool(re.match(AUTH_ROUTES, p)), "fuzz_auth",
                             "examples,coverage,fuzzing", examples, "1"))
            else:
                may = role_may_call(me[role]["role"])
                runs.append((role, lambda m, p, op, may=may: not_auth(m, p, op) and may(m, p, op), role,
                             "examples,coverage,fuzzing", examples, workers))

        for name, keep, who, phases, n, nworkers in runs:
            env = dict(os.environ)
            env["SCHEMATHESIS_HOOKS"] = "api_fuzz_hooks"
            env["PYTHONPATH"] = str(HERE) + os.pathsep + env.get("PYTHONPATH", "")
            env["PEIXUN_FUZZ_ROLE"] = "anonymous"
            env["PEIXUN_FUZZ_PROTECT_IDS"] = protect
            env["PEIXUN_FUZZ_THROWAWAY_ID"] = str(throwaway_id)
            doc_path = work / f"{name}.openapi.json"
            doc_path.write_text(json.dumps(document_for(doc, keep)))
            headers = []
            if who and who != "fuzz_auth":
                headers = ["-H", f"Authorization: Bearer {tokens[who]}"]
                env["PEIXUN_FUZZ_ROLE"] = who
                env["PEIXUN_FUZZ_TOKEN"] = tokens[who]
            t0 = time.time()
            for attempt in (1, 2):
                if who == "fuzz_auth":
                    # Last: login/logout/password as an account made now (its token may end).
                    user = f"fuzz_auth{attempt}"
                    _, password = make_account(base, tokens, user)
                    headers = ["-H", f"Authorization: Bearer {login(base, user, password)}"]
                ndjson = work / f"{name}.{attempt}.ndjson"
                # Methods a route does not have (405) are tried in one signed-in run, centre_admin's
                # (the router answers them alike for every role); elsewhere they would be a quarter
                # of the cases.
                config = work / f"{name}.toml"
                config.write_text("" if name == "centre_admin" else "[phases.coverage]\nunexpected-methods = []\n")
                args = [st, "--config-file", str(config), "run", str(doc_path), "--url", base, "--max-examples", str(n), "--seed", seed,
                        "--workers", nworkers if attempt == 1 else "1", "--checks", ",".join(CHECKS),
                        "--no-color", "--phases", phases, "--suppress-health-check", "all",
                        "--request-timeout", "30", "--output-truncate", "true", "--continue-on-failure",
                        "--generation-database", "none",
                        "--report", "ndjson", "--report-ndjson-path", str(ndjson)] + headers
                out_path = work / f"{name}.{attempt}.out"
                with open(out_path, "w") as out:
                    rc = subprocess.run(args, env=env, stdout=out, stderr=subprocess.STDOUT,
                                        cwd=work).returncode  # its caches go there, not in the clone
                ops, cases, failures, server_errors, errors = summarize(ndjson)
                # An error of the tool itself (no failed check, no 5xx) is tried once more, alone.
                if not (errors and not failures and not server_errors) or attempt == 2:
                    break
                print(f"api_fuzz: {name}: {errors} schemathesis errors and no failure; once more", flush=True)
            elapsed = time.time() - t0
            results.append((name, len(ops), len(cases), len(failures), server_errors, errors))
            print(f"api_fuzz: {name:<13} {len(ops):>4} operations {len(cases):>6} examples "
                  f"{len(failures):>4} failures {server_errors:>4} 5xx {errors:>3} errors  "
                  f"exit {rc}  {elapsed:.0f} s", flush=True)
            for f in sorted(failures, key=str):
                print(f"    {f[0]}  [{f[1]}] {f[2]}")
            if rc != 0 or failures or server_errors or errors:
                ok = False
                text = out_path.read_text()
                # The failures section of schemathesis' own output says what and how to reproduce.
                m = re.search(r"^=+ (ERRORS|FAILURES) =+$", text, re.MULTILINE)
                sys.stdout.write(text[m.start() if m else max(0, len(text) - 20000):][:40000])
                sys.stdout.write("\n")
            if proc.poll() is not None:
                ok = False
                print(f"api_fuzz: the server died during the {name} run (exit {proc.returncode})")
                break
        # No session of a fuzzed role may have ended.
        for role, token in tokens.items():
            status, _ = http(base, "GET", "/api/v1/me", token=token)
            if status != 200:
                ok = False
                print(f"api_fuzz: the {role} token no longer works after the run ({status})")
        panics = [l for l in (work / "server.log").read_text(errors="replace").splitlines() if "panicked" in l]
        if panics:
            ok = False
            print("api_fuzz: the server log shows panics:\n" + "\n".join(panics[:20]))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()

    print(f"\napi_fuzz: {len(all_ops)} operations in the document; totals per role")
    print(f"{'role':<14}{'operations':>11}{'examples':>10}{'failures':>10}{'5xx':>6}{'errors':>8}")
    for role, nops, ncases, nfail, n5xx, nerr in results:
        print(f"{role:<14}{nops:>11}{ncases:>10}{nfail:>10}{n5xx:>6}{nerr:>8}")
    print(f"{'total':<14}{sum(r[1] for r in results):>11}{sum(r[2] for r in results):>10}"
          f"{sum(r[3] for r in results):>10}{sum(r[4] for r in results):>6}{sum(r[5] for r in results):>8}")
    print(f"api_fuzz: wall time {time.time() - started:.0f} s; {'PASS' if ok else 'FAIL'}")
    if os.environ.get("PEIXUN_FUZZ_KEEP"):
        print(f"api_fuzz: reports and server log kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
