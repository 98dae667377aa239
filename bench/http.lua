-- http.lua -- wrk's script for bench/httpbench.py: POST prepared JSON bodies, report JSON.
--
-- [WRK_DELAY_MS=D] wrk -t1 -cC -dS --script bench/http.lua URL -- BODIES TOKEN
-- BODIES holds one JSON body a line (made from the 200-byte posts); each thread
-- formats every request once, then sends them in turn (each thread from its own
-- offset). WRK_DELAY_MS > 0: each connection waits that long after each
-- answer (wrk's delay(), defined only then: the half-load run). done() prints one JSON line: requests,
-- duration, errors (non-2xx counted in status) and latency percentiles in us.
local reqs, i = {}, 0
local pause = tonumber(os.getenv("WRK_DELAY_MS") or "0")

function init(args)
  local headers = {["Content-Type"] = "application/json",
                   ["Authorization"] = "Bearer " .. args[2]}
  for line in io.lines(args[1]) do
    reqs[#reqs + 1] = wrk.format("POST", nil, headers, line)
  end
  i = math.random(#reqs)
end

function request()
  i = i % #reqs + 1
  return reqs[i]
end

if pause > 0 then
  function delay()
    return pause
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,' ..
    '"write":%d,"status":%d,"timeout":%d},"latency_us":{"p50":%d,"p90":%d,"p99":%d,' ..
    '"p999":%d,"max":%d,"mean":%.1f}}\n', summary.requests, summary.duration, e.connect,
    e.read, e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean))
end
