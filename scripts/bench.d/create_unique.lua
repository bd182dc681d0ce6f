-- Every request creates a new endpoint: the client id is the run's prefix, the
-- thread's id and a per-thread counter, so no two requests of a benchmark share
-- one and every answer must be a 201.
-- Arguments: tag=RUN key=API_KEY prefix=CLIENT_ID_PREFIX [path=P]
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "common.lua")

local path = "/api/v3.1/webhook_endpoints"
local prefix

function init(args)
  local opts = parse_args(args)
  wrk.headers["x-api-key"] = opts.key
  wrk.headers["content-type"] = "application/json"
  prefix = opts.prefix .. "-t" .. id .. "-"
  path = opts.path or path
end

function request()
  sent = sent + 1
  local body = '{"toolkit_slug":"slack","client_id":"' .. prefix .. sent .. '"}'
  return wrk.format("POST", path, nil, body)
end
