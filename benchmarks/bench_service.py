"""Benchmark of the scoring service (`bentoml serve serving.service:EscalationRisk`) under open-loop
load, against the in-process floor measured in the same run.

Open loop: request i is due at t0 + i / rate, fixed before the run; latency is measured from
that due time, so a service that falls behind shows its queueing in the percentiles (a closed
loop of N clients would only slow its own sending down). Beside it, each run reports the latency
from the moment the request was handed to the client and how late the generator itself sent
(asyncio rounds its timers up to the millisecond; it shares the 2 cores): the service's own
response time, without the generator's lateness. The load generator is one asyncio
process (aiohttp, HTTP/1.1, spread round robin over 8 clients) on the same 2-core machine as the
service. By default every request opens its own connection (`--connections per-request`): the
kernel hands it to whichever worker waits in accept, so both workers share the load. With
`--connections keep-alive` each client keeps one connection, which stays with the worker that
accepted it: a few long-lived connections can all land on one worker, and the capacity is then
one worker's.

1. Capacity: the highest rate of single-account `/score` calls (90 days of history, reasons)
   sustained for 30 s with zero errors and p99 <= 100 ms; then p50/p99 at 25/50/75% of it.
2. Floor: in-process `build_features` + calibrated predict + contributions of both heads for one
   account (typed History, no HTTP, no JSON); service p50 / floor p50.
3. `/score` with 1,000 accounts per call: accounts/s, and its ratio to the in-process floor for
   the same 1,000 accounts; beside it, what only reading that body costs in process (the standard
   library's `json.loads`, and the request model's `model_validate_json`): a lower bound of the
   call that no handler can go under.
4. `--profile`: where one single-account request spends its time in process (cProfile of the
   service's own handler, no HTTP).

    uv run --frozen python benchmarks/bench_service.py [--quick] [--duration 30] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchworld import ROOT, model_size, simulated_history, train_bundle, world_end  # noqa: E402

from features.build import build_features  # noqa: E402
from features.contract import History  # noqa: E402
from serving.params import load_params  # noqa: E402
from serving.scoring import SINGLE_THREAD_ROWS, FeatureArrays, contributions  # noqa: E402

TOKEN = "bench-token-0123456789"
P99_LIMIT_MS = 100.0


# --- the model and the requests --------------------------------------------------------------


def register_champion(bundle: Any, tracking_uri: str, workdir: Path, model_name: str) -> None:
    """Register the bundle as `champion`, as `escrisk train && escrisk promote` would."""
    import mlflow

    from training.bundle import write_bundle

    bundle_dir = write_bundle(workdir / "bundle", bundle.heads, bundle.spec, bundle.feature_params)
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    mlflow.set_experiment("bench-service")
    with mlflow.start_run():
        mlflow.pyfunc.log_model(
            name="model",
            python_model=str(ROOT / "training" / "pyfunc_model.py"),
            artifacts={"bundle": str(bundle_dir)},
            registered_model_name=model_name,
        )
    client = mlflow.MlflowClient()
    version = max(int(v.version) for v in client.search_model_versions(f"name='{model_name}'"))
    client.set_registered_model_alias(model_name, "champion", str(version))


def _json_value(v: Any) -> Any:
    if v is None or v is pd.NaT or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def _records(df: pd.DataFrame | None, drop: tuple[str, ...] = ()) -> dict[str, list[dict]]:
    """Rows grouped by account id, JSON-ready, without null fields."""
    if df is None:
        return {}
    cols = [c for c in df.columns if c not in drop]
    out: dict[str, list[dict]] = {}
    for row in df[cols].astype(object).itertuples(index=False):
        rec = {c: _json_value(v) for c, v in zip(cols, row, strict=True)}
        out.setdefault(rec["account_id"], []).append(
            {k: v for k, v in rec.items() if v is not None}
        )
    return out


def account_payloads(history: History, ids: list[str]) -> dict[str, dict]:
    """Per account id, its `/score` item: the record and its whole (90-day) history."""
    h = _subset(history, ids)
    acc = h.accounts.copy()
    for c in ("contract_start", "renewal_date"):
        acc[c] = acc[c].dt.date.astype(str)
    usage = h.usage.copy() if h.usage is not None else None
    if usage is not None:
        usage["date"] = usage["date"].dt.date.astype(str)
    accounts = {r["account_id"]: r for recs in _records(acc).values() for r in recs}
    tickets, days, escalations = _records(h.tickets), _records(usage), _records(h.escalations)
    fields = ("account_id", "name", "tier", "arr", "seats", "contract_start", "renewal_date",
              "csm_owner", "region", "language")  # fmt: skip
    return {
        a: {
            "account": {k: accounts[a][k] for k in fields},
            "tickets": tickets.get(a, []),
            "usage": days.get(a, []),
            "escalations": escalations.get(a, []),
        }
        for a in ids
    }


def _subset(history: History, ids: list[str]) -> History:
    keep = set(ids)

    def sel(df: pd.DataFrame | None) -> pd.DataFrame | None:
        return None if df is None else df[df["account_id"].isin(keep)].reset_index(drop=True)

    return History(
        accounts=sel(history.accounts),  # type: ignore[arg-type]
        tickets=sel(history.tickets),  # type: ignore[arg-type]
        usage=sel(history.usage),
        escalations=sel(history.escalations),
        churn=None,
    )


# --- the in-process floor --------------------------------------------------------------------


def floor_seconds(model: Any, history: History, as_of: pd.Timestamp, params: Any) -> float:
    """build_features + calibrated predict + contributions of both heads, for these accounts."""
    t0 = time.perf_counter()
    fs = build_features(history, [as_of], model.features(params.features), spec=model.spec)
    values = FeatureArrays.of_set(fs)  # as score_rows reads a feature build
    for head in model.heads.values():
        X = values.lightgbm_input(head.booster)
        kw = {"num_threads": 1} if len(X) < SINGLE_THREAD_ROWS else {}
        head.calibrate(np.asarray(head.booster.predict(X, raw_score=True, **kw)))
        contributions(head.booster, X)
    return time.perf_counter() - t0


def body_bound(body: bytes, repeats: int = 5) -> dict[str, float]:
    """Median seconds only to parse `body` (stdlib json) and to validate it into the request
    model: no call of `/score` with this body can take less."""
    from serving.schemas import ScoreRequest

    out = {}
    for name, fn in (
        ("json.loads", lambda: json.loads(body)),
        ("model_validate_json", lambda: ScoreRequest.model_validate_json(body)),
    ):
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        out[name] = statistics.median(times)
    return out


# --- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`bentoml serve` on a free loopback port, in its own process group; always stopped."""

    def __init__(self, workdir: Path, tracking_uri: str, workers: int | None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "server.log"
        env = dict(
            os.environ,
            MLFLOW_TRACKING_URI=tracking_uri,
            ESCRISK_API_TOKENS=TOKEN,
            ESCRISK_DATABASE_URL=f"sqlite:///{workdir / 'escrisk.db'}",
            ESCRISK_PARAMS=str(ROOT / "params.yaml"),
            BENTOML_HOME=str(workdir / "bentoml"),
        )
        if workers is not None:
            env["ESCRISK_SERVICE_WORKERS"] = str(workers)
        env.pop("ESCRISK_API_TOKENS_FILE", None)
        self.log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop)
        cmd = [sys.executable, "-m", "bentoml", "serve", "serving.service:EscalationRisk",
               "--host", "127.0.0.1", "--port", str(self.port)]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def wait_ready(self, timeout: float = 180) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"service not ready:\n{self.log_path.read_text()[-3000:]}")
            time.sleep(0.5)

    def cpu_seconds(self) -> float:
        """User + system CPU so far of the service: `bentoml serve` and all its descendants."""
        stats: dict[int, tuple[int, int]] = {}  # pid -> (parent, utime + stime in ticks)
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            stats[int(d.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
        family = {self.proc.pid}
        while True:  # add children until none is left out
            more = {p for p, (parent, _) in stats.items() if parent in family} - family
            if not more:
                break
            family |= more
        total = sum(stats[p][1] for p in family if p in stats)
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


# --- open-loop load ----------------------------------------------------------------------------


# Clients the load is spread over, round robin (a helpdesk has many agents). A client whose
# connection is busy opens another (open loop).
CLIENTS = 8
CONNECTIONS = "per-request"  # or "keep-alive"; set from --connections


async def _open_loop(
    url: str, bodies: list[bytes], rate: float, seconds: float, fresh: bool
) -> dict:
    import aiohttp

    n = max(1, int(rate * seconds))
    latencies: list[float] = []  # from the due time: queueing anywhere counts
    served: list[float] = []  # from the moment the request was handed to the client
    late: list[float] = []  # the generator's own lateness (its timer, its event loop)
    errors: dict[str, int] = {}
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    timeout = aiohttp.ClientTimeout(total=30)
    sessions = [
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, force_close=fresh), timeout=timeout
        )
        for _ in range(CLIENTS)
    ]
    try:
        for session in sessions:  # open each client's connection outside the measurement
            async with session.post(f"{url}/score", data=bodies[0], headers=headers) as r:
                await r.read()
        loop = asyncio.get_running_loop()
        t0 = loop.time() + 0.2

        async def one(i: int) -> None:
            due = t0 + i / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            sent = loop.time()
            try:
                async with sessions[i % CLIENTS].post(
                    f"{url}/score", data=bodies[i % len(bodies)], headers=headers
                ) as r:
                    await r.read()
                    status = r.status
            except Exception as exc:  # noqa: BLE001 (counted as an error of the run)
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                return
            if status != 200:
                errors[str(status)] = errors.get(str(status), 0) + 1
                return
            done = loop.time()
            latencies.append((done - due) * 1000)
            served.append((done - sent) * 1000)
            late.append((sent - due) * 1000)

        await asyncio.gather(*(one(i) for i in range(n)))
    finally:
        for session in sessions:
            await session.close()

    def pct(xs: list[float], q: float) -> float:
        return float(np.percentile(xs, q)) if xs else float("inf")

    return {
        "rate": rate,
        "sent": n,
        "ok": len(latencies),
        "errors": errors,
        "p50": pct(latencies, 50),
        "p99": pct(latencies, 99),
        "served_p50": pct(served, 50),
        "late_p50": pct(late, 50),
        "late_p99": pct(late, 99),
    }


def open_loop(url: str, bodies: list[bytes], rate: float, seconds: float) -> dict:
    r = asyncio.run(_open_loop(url, bodies, rate, seconds, CONNECTIONS == "per-request"))
    r["passed"] = not r["errors"] and r["p99"] <= P99_LIMIT_MS
    print(
        f"  {rate:6.0f} req/s x {seconds:.0f} s: p50 {r['p50']:7.1f} ms, p99 {r['p99']:8.1f} ms, "
        f"errors {sum(r['errors'].values())} {r['errors'] or ''} -> "
        f"{'ok' if r['passed'] else 'over'} (from send: p50 {r['served_p50']:.1f} ms; generator "
        f"late p50 {r['late_p50']:.1f}, p99 {r['late_p99']:.1f} ms)",
        flush=True,
    )
    return r


def capacity(url: str, bodies: list[bytes], probe: float, sustain: float, limit: float) -> dict:
    """Probe rising rates briefly, bisect between the last good and the first bad rate, then
    confirm for `sustain` seconds (stepping down until a rate holds)."""
    good, bad = 1.0, None
    rate = 5.0
    while rate <= limit:
        if open_loop(url, bodies, rate, probe)["passed"]:
            good, rate = rate, rate * 1.5
        else:
            bad = rate
            break
    if bad is not None:
        for _ in range(2):
            mid = round((good + bad) / 2, 1)
            if open_loop(url, bodies, mid, probe)["passed"]:
                good = mid
            else:
                bad = mid
    rate = good
    while True:
        r = open_loop(url, bodies, rate, sustain)
        if r["passed"] or rate <= 1:
            return r
        rate = max(1.0, round(rate * 0.9, 1))


# --- the run -----------------------------------------------------------------------------------


def in_process_service(tracking_uri: str) -> Any:
    """The service class behind the bentoml decorator, instantiated here (loads the champion)."""
    os.environ.update(MLFLOW_TRACKING_URI=tracking_uri, ESCRISK_API_TOKENS=TOKEN)
    os.environ["ESCRISK_PARAMS"] = str(ROOT / "params.yaml")
    from serving import service

    return service.EscalationRisk.inner()


def profile_handler(svc: Any, bodies: list[bytes], n: int) -> None:
    """cProfile of the service's own `/score` handler for single-account requests, in process."""
    import cProfile
    import pstats

    from serving.schemas import ScoreRequest

    pr = cProfile.Profile()
    t0 = time.perf_counter()
    pr.enable()
    for b in bodies[:n]:
        svc._score(ScoreRequest.model_validate_json(b))
    pr.disable()
    print(f"in-process handler under cProfile: {(time.perf_counter() - t0) / n * 1000:.1f} ms")
    pstats.Stats(pr).sort_stats("cumulative").print_stats(35)


def stage_times(svc: Any, bodies: list[bytes]) -> dict[str, float]:
    """Median milliseconds of each step `/score` takes for one account (no HTTP)."""
    from features.build import build_features
    from serving.facts import account_facts
    from serving.intake import request_history, resolve_as_of
    from serving.schemas import ScoreRequest
    from serving.scoring import score_rows

    p = svc.params
    out: dict[str, list[float]] = {}
    for b in bodies:
        marks = [time.perf_counter()]
        req = ScoreRequest.model_validate_json(b)
        marks.append(time.perf_counter())
        now = pd.Timestamp.now(tz="UTC")
        day = resolve_as_of(req.as_of, now, p.contract)
        history = request_history(
            req, p.contract, svc.model.features(p.features).custom_fields, now, svc.clock_skew
        )
        marks.append(time.perf_counter())
        fs = build_features(history, [day], svc.model.features(p.features), spec=svc.model.spec)
        marks.append(time.perf_counter())
        facts = account_facts(history, day, p.features)
        marks.append(time.perf_counter())
        score_rows(svc.model, fs, facts, p.ladder, now, p.service.top_reasons)
        marks.append(time.perf_counter())
        names = ("pydantic", "history (contract check)", "build_features", "facts", "score_rows")
        for name, a, z in zip(names, marks, marks[1:], strict=False):
            out.setdefault(name, []).append((z - a) * 1000)
    return {k: statistics.median(v) for k, v in out.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=30, help="seconds a rate must be sustained")
    ap.add_argument("--probe", type=float, default=10, help="seconds of each probing rate")
    ap.add_argument("--accounts", type=int, default=2000, help="accounts in the request world")
    ap.add_argument("--workers", type=int, default=None, help="default: params.yaml service")
    ap.add_argument("--max-rate", type=float, default=1200)
    ap.add_argument(
        "--connections",
        choices=["per-request", "keep-alive"],
        default="per-request",
        help="a new connection per request, or one kept-alive connection per client",
    )
    ap.add_argument("--quick", action="store_true", help="short runs, small world")
    ap.add_argument("--profile", action="store_true", help="profile the handler and stop")
    args = ap.parse_args()
    global CONNECTIONS
    CONNECTIONS = args.connections
    if args.quick:
        args.duration, args.probe, args.accounts = 5, 3, 1200
    params = load_params(ROOT / "params.yaml")
    as_of = world_end(params)
    t0 = time.perf_counter()
    bundle, _ = train_bundle(params)
    size = model_size(bundle)
    print(f"model: {size} (trained in {time.perf_counter() - t0:.0f} s)", flush=True)
    history = simulated_history(params, args.accounts, 3, seed=21)
    fs = build_features(history, [as_of], params.features, spec=bundle.spec)
    active = fs.frame["account_id"].tolist()
    rng = np.random.default_rng(5)
    singles = [str(a) for a in rng.choice(active, size=min(400, len(active)), replace=False)]
    batch_ids = [str(a) for a in active[:1000]]
    payloads = account_payloads(history, sorted(set(singles) | set(batch_ids)))
    day = as_of.date().isoformat()
    bodies = [json.dumps({"accounts": [payloads[a]], "as_of": day}).encode() for a in singles]
    big = json.dumps({"accounts": [payloads[a] for a in batch_ids], "as_of": day}).encode()
    sizes = [len(payloads[a]["tickets"]) for a in singles]
    usage_days = [len(payloads[a]["usage"]) for a in singles]
    print(
        f"requests: {len(singles)} single-account bodies (median {statistics.median(sizes):.0f} "
        f"tickets, {statistics.median(usage_days):.0f} usage days, "
        f"{statistics.median(len(b) for b in bodies) / 1024:.0f} KiB), one 1,000-account body "
        f"({len(big) / 2**20:.1f} MiB)",
        flush=True,
    )

    from serving.model import scoring_model

    model = scoring_model(bundle, "bench/1")
    one = [floor_seconds(model, _subset(history, [a]), as_of, params) for a in singles[:100]]
    floor_p50 = statistics.median(one) * 1000
    batch_history = _subset(history, batch_ids)
    floor_batch = statistics.median(
        floor_seconds(model, batch_history, as_of, params) for _ in range(3)
    )
    print(
        f"floor: one account p50 {floor_p50:.1f} ms; 1,000 accounts {floor_batch:.2f} s "
        f"({1000 / floor_batch:.0f} accounts/s)",
        flush=True,
    )
    decode = body_bound(big)
    print(
        f"reading the 1,000-account body in process: json.loads {decode['json.loads']:.3f} s, "
        f"ScoreRequest.model_validate_json {decode['model_validate_json']:.3f} s; a ratio of 0.7 "
        f"allows the whole call {floor_batch / 0.7:.3f} s",
        flush=True,
    )

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        uri = f"sqlite:///{work / 'mlflow.db'}"
        register_champion(bundle, uri, work, params.promotion.model_name)
        svc = in_process_service(uri)
        stages = stage_times(svc, bodies[:150])
        print(
            "in process, median ms per single-account request: "
            + ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
            + f" (sum {sum(stages.values()):.1f})",
            flush=True,
        )
        if args.profile:
            profile_handler(svc, bodies, 200)
            return 0
        del svc
        server = Server(work, uri, args.workers)
        try:
            server.wait_ready()
            workers = args.workers or int(
                os.environ.get("ESCRISK_SERVICE_WORKERS") or params.service.workers
            )
            print(f"service: {server.url}, {workers} worker(s)", flush=True)
            import httpx

            headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
            with httpx.Client(base_url=server.url, headers=headers, timeout=120) as c:
                for b in bodies[:20]:  # warm-up: imports, first predictions
                    c.post("/score", content=b).raise_for_status()
                c.post("/score", content=big).raise_for_status()
                batch_times = []
                for _ in range(3):
                    t = time.perf_counter()
                    r = c.post("/score", content=big)
                    batch_times.append(time.perf_counter() - t)
                    r.raise_for_status()
                    assert len(r.json()["scores"]) == 1000
            batch = statistics.median(batch_times)
            print(
                f"/score x 1,000 accounts: {batch:.2f} s per call ({1000 / batch:.0f} accounts/s), "
                f"ratio to floor {floor_batch / batch:.2f} (target >= 0.7)",
                flush=True,
            )
            cpu_rate = 10.0
            before = server.cpu_seconds()
            steady = open_loop(server.url, bodies, cpu_rate, 10)
            cpu_ms = (server.cpu_seconds() - before) / steady["sent"] * 1000
            print(
                f"service CPU per single-account request (all its processes, {cpu_rate:.0f} req/s "
                f"for 10 s): {cpu_ms:.1f} ms",
                flush=True,
            )
            print(f"capacity search (p99 <= {P99_LIMIT_MS:.0f} ms, no errors):", flush=True)
            cap = capacity(server.url, bodies, args.probe, args.duration, args.max_rate)
            levels = {}
            for share in (0.25, 0.5, 0.75):
                levels[share] = open_loop(
                    server.url, bodies, max(1.0, cap["rate"] * share), args.duration
                )
        finally:
            server.stop()
    print()
    print(
        f"model: {size}; workers {workers}; load generator on the same 2 cores, "
        f"{CLIENTS} clients, connections {CONNECTIONS}"
    )
    print(f"service CPU per single-account request: {cpu_ms:.1f} ms")
    print(
        f"capacity: {cap['rate']:.0f} req/s for {args.duration:.0f} s (p50 {cap['p50']:.1f} ms, "
        f"p99 {cap['p99']:.1f} ms, errors {sum(cap['errors'].values())}) - target >= 200: "
        f"{'met' if cap['passed'] and cap['rate'] >= 200 else 'NOT met'}"
    )
    for share, r in levels.items():
        print(
            f"  at {share:.0%} ({r['rate']:.0f} req/s): p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms"
            f", errors {sum(r['errors'].values())}; from send p50 {r['served_p50']:.1f} ms, "
            f"generator late p50 {r['late_p50']:.1f} ms"
        )
    half = levels[0.5]
    print(f"p99 at 50% <= 50 ms: {'met' if half['p99'] <= 50 else 'NOT met'}")
    ratio = levels[0.25]["p50"] / floor_p50
    served = levels[0.25]["served_p50"] / floor_p50
    print(
        f"floor p50 {floor_p50:.1f} ms; service p50 at 25% load / floor p50 = {ratio:.2f} from the "
        f"due time, {served:.2f} from the send (target <= 3: "
        f"{'met' if ratio <= 3 else 'met from the send only' if served <= 3 else 'NOT met'})"
    )
    print(
        f"1,000 accounts per call: {1000 / batch:.0f} accounts/s, ratio to floor "
        f"{floor_batch / batch:.2f} (target >= 0.7: {'met' if floor_batch / batch >= 0.7 else 'NOT met'})"
    )
    print(
        f"  bound: parsing the body takes {decode['json.loads'] / floor_batch:.1f}x the floor "
        f"(json.loads), validating it {decode['model_validate_json'] / floor_batch:.1f}x; "
        f"best reachable ratio {floor_batch / decode['model_validate_json']:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
