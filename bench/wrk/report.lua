-- Loaded by bench/lib/wrk.ts. BENCH_BODY_BYTES > 0 turns every request into a POST
-- with a body of that size (set before wrk builds its one static request).
local bodyBytes = tonumber(os.getenv("BENCH_BODY_BYTES") or "0") or 0
if bodyBytes > 0 then
  wrk.method = "POST"
  wrk.body = string.rep("x", bodyBytes)
  wrk.headers["Content-Type"] = "application/octet-stream"
end

-- One machine-readable line; latencies in microseconds.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"durationUs":%d,"requests":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latencyUs":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}}\n',
    summary.duration, summary.requests, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50.0), latency:percentile(90.0), latency:percentile(99.0), latency:percentile(99.9), latency.max))
end
