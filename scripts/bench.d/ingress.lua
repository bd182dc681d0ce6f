-- Sends pre-signed Slack events (made by sign-events.mjs just before the run),
-- each event once: the server acknowledges a repeated event id without storing
-- it, which would measure the cheap path. Thread k of n takes lines k, k+n,
-- k+2n, ... and formats them all in init(), outside the timed part. If a thread
-- runs out it starts over and counts the wrap, which scripts/bench reports.
-- Arguments: tag=RUN path=INGRESS_PATH events=FILE threads=N
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

local requests = {}
local count = 0

function init(args)
  local opts = parse_args(args)
  local nthreads = tonumber(opts.threads)
  local file = assert(io.open(opts.events, "r"))
  local line_no = 0
  for line in file:lines() do
    if line_no % nthreads == id then
      local ts, sig, body = line:match("^(%d+)\t(v0=%x+)\t(.+)$")
      if not ts then error("bad line in " .. opts.events .. ": " .. line) end
      count = count + 1
      -- wrk.format ignores wrk.headers when given a table, so the tag goes here too.
      requests[count] = wrk.format("POST", opts.path, {
        ["content-type"] = "application/json",
        ["X-Slack-Request-Timestamp"] = ts,
        ["X-Slack-Signature"] = sig,
        ["x-request-id"] = opts.tag,
      }, body)
    end
    line_no = line_no + 1
  end
  file:close()
  if count == 0 then error("no events for thread " .. id .. " in " .. opts.events) end
end

local next_index = 0

function request()
  sent = sent + 1
  next_index = next_index + 1
  if next_index > count then
    next_index = 1
    wrapped = wrapped + 1
  end
  return requests[next_index]
end
