-- Shared by every workload script of scripts/bench (wrk 4.1, LuaJIT).
--
-- Each script starts with
--   local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
--   dofile(dir .. "common.lua")
-- and gets: thread ids (setup), the run's tag as x-request-id on every request
-- (the server logs it, so scripts/bench can count unexpected statuses per run
-- from the log instead of paying for a Lua response() callback), and a done()
-- that prints one machine-readable line.

local threads = {}

-- Runs in wrk's main Lua state, once per thread, before that thread's init().
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads - 1)
end

-- Scripts that count what they sent (create_unique, ingress) keep these
-- globals in each thread's state; done() sums them.
sent = 0
wrapped = 0

-- Parses init()'s "key=value" arguments (given to wrk after "--").
function parse_args(args)
  local opts = {}
  for _, arg in ipairs(args) do
    local k, v = arg:match("^([%w_]+)=(.*)$")
    if not k then error("bad script argument: " .. arg) end
    opts[k] = v
  end
  if not opts.tag then error("missing script argument tag=") end
  wrk.headers["x-request-id"] = opts.tag
  return opts
end

function done(summary, latency, requests)
  local sent_total, wrapped_total = 0, 0
  for _, thread in ipairs(threads) do
    sent_total = sent_total + (thread:get("sent") or 0)
    wrapped_total = wrapped_total + (thread:get("wrapped") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d " ..
    "connect=%d read=%d write=%d timeout=%d status=%d sent=%d wrapped=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.timeout, e.status, sent_total, wrapped_total))
end
