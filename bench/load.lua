-- wrk script for Kern's benchmark: replays the request lines of a file in turn (one line per
-- learner and page, so every request carries some learner's cookies) and prints a summary as
-- one JSON line that bench/wrk.py reads.
--
--   wrk -t2 -c32 -d10s -s bench/load.lua http://127.0.0.1:PORT -- REQUESTS_FILE RUN_ID
--
-- A line of REQUESTS_FILE is tab-separated: METHOD, PATH, BODY, then "Name: value" headers.
-- BODY "-" means no body; "{client_id}" in a body becomes an id unique to the request (the
-- practice API stores a repeated client_id only once).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("number", #threads)
end

local requests = {}
local count = 0
local counter = 0
local tag = ""
statuses = {}

local function split(line, separator)
  local fields, start = {}, 1
  while true do
    local at = line:find(separator, start, true)
    if not at then
      table.insert(fields, line:sub(start))
      return fields
    end
    table.insert(fields, line:sub(start, at - 1))
    start = at + 1
  end
end

function init(args)
  tag = (args[2] or "0") .. "-" .. tostring(number or 0)
  for line in io.lines(args[1]) do
    if line ~= "" then
      local fields = split(line, "\t")
      local body = fields[3]
      if body == "-" then body = nil end
      local headers = {}
      for index = 4, #fields do
        local name, value = fields[index]:match("^([^:]+):%s*(.*)$")
        if name then headers[name] = value end
      end
      local entry = { method = fields[1], path = fields[2], body = body, headers = headers }
      if not (body and body:find("{client_id}", 1, true)) then
        entry.raw = wrk.format(entry.method, entry.path, headers, body)
      end
      count = count + 1
      requests[count] = entry
    end
  end
  if count == 0 then error("no requests in " .. tostring(args[1])) end
  -- The threads start at different learners.
  counter = math.floor(((number or 1) - 1) * count / 2)
end

function request()
  counter = counter + 1
  local entry = requests[counter % count + 1]
  if entry.raw then return entry.raw end
  local body = entry.body:gsub("{client_id}", "b" .. tag .. "-" .. counter)
  return wrk.format(entry.method, entry.path, entry.headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, _requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for status, seen in pairs(thread:get("statuses") or {}) do
      merged[status] = (merged[status] or 0) + seen
    end
  end
  local codes = {}
  for status, seen in pairs(merged) do
    table.insert(codes, string.format('"%d": %d', status, seen))
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH-JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "mean": %.1f, "max": %d}, ' ..
    '"statuses": {%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max, table.concat(codes, ", ")))
end
