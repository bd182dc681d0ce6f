-- One fixed request, formatted once per thread (wrk's fast path: no request()
-- function). Used by healthz, create_idempotent, retrieve, list_1000,
-- list_1000_limit100 and patch.
-- Arguments: tag=RUN method=M path=P [key=API_KEY] [body=JSON]
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

function init(args)
  local opts = parse_args(args)
  wrk.method = opts.method or "GET"
  wrk.path = opts.path
  if opts.key then wrk.headers["x-api-key"] = opts.key end
  if opts.body then
    wrk.body = opts.body
    wrk.headers["content-type"] = "application/json"
  end
end
