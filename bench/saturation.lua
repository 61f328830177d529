-- wrk script of the signup runs (bench/service-run.ts starts wrk with it for bench/saturation.ts and bench/signups.ts).
--   wrk ... -s bench/saturation.lua URL -- RUN OUT_DIR TERMS_VERSION [post|get]
-- MODE post (the default) signs up; get fetches URL (e.g. /healthz, the baseline), logging its answers the same way
-- so both runs pay wrk the same per-answer cost.
-- Every request is a new address, sat-RUN-THREAD-N@example.com, and carries X-Request-Id THREAD-N, which the
-- service echoes: wrk gives response() no way to tell which request an answer belongs to (a thread's connections
-- interleave), so the echoed id is what ties each status to its address. Each thread writes "STATUS ID" per answer
-- to OUT_DIR/thread-THREAD.log, from which the bench counts statuses and checks every 202'd address in Redis.

local threads = {}

-- Runs in wrk's main Lua state, once per thread, before the threads start.
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

-- Runs in each thread's own Lua state.
function init(args)
  run, out_dir, terms, mode = args[1], args[2], args[3], args[4] or "post"
  sent = 0
  log = assert(io.open(out_dir .. "/thread-" .. id .. ".log", "w"))
  -- wrk exits without closing the threads' Lua states: line buffering keeps every answer written.
  log:setvbuf("line")
end

function request()
  sent = sent + 1
  if mode == "get" then
    return wrk.format("GET")
  end
  local rid = id .. "-" .. sent
  local body = '{"email":"sat-' .. run .. "-" .. rid .. '@example.com","consent":true,"termsVersion":"' .. terms .. '"}'
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json", ["X-Request-Id"] = rid }, body)
end

function response(status, headers, body)
  log:write(status, " ", headers["X-Request-Id"] or headers["x-request-id"] or "-", "\n")
end

-- Runs in the main state at the end: one JSON line for the bench to read (latencies in microseconds).
function done(summary, latency, requests)
  local e = summary.errors
  -- Requests written, answered or not: the addresses that may be in Redis.
  local written = 0
  for _, thread in ipairs(threads) do
    written = written + thread:get("sent")
  end
  io.write(string.format(
    'SATURATION {"requests":%d,"written":%d,"durationUs":%d,"bytes":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latencyUs":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"max":%d}}\n',
    summary.requests, written, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
