-- One scenario of bench/forms_bench.py for wrk:
--   wrk ... -s bench/wrk_scenario.lua URL -- METHOD PATH WINDOW_SECONDS TAG_PREFIX [BODY]
--
-- Each connection sends requests for WINDOW_SECONDS, then stops sending (delay() parks it) while
-- wrk runs on for a short grace period, so every request sent gets its answer counted. That is
-- what lets the benchmark compare "303 answers" with "rows stored" exactly: with wrk's own hard
-- stop, up to one request per connection is in flight, stored by the server but never counted.
-- That is not airtight: a connection parked just before the window closes can hold a sync
-- worker (it waits for a request that never comes) while a request sent on another connection
-- waits behind it, so "unanswered" is reported, and the tags below settle what was stored.
--
-- With a BODY, BENCHTAG in it becomes TAG_PREFIX-THREAD-N, a unique mark per request, also sent
-- as X-Request-ID; Formyard echoes that header, so each answer names the request it answers.
-- The last line printed is "FORMYARD_BENCH {json}", which forms_bench.py parses.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } formyard_bench_timespec;
int clock_gettime(int clock_id, formyard_bench_timespec *tp);
]])
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("formyard_bench_timespec")

local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) * 1e-9
end

-- Main state: the threads, to add up their counters in done().
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

-- Thread state. Globals, so that done() can read them with thread:get().
sent = 0
in_window = 0
drained = 0
statuses = {}
answered = {} -- "TAG STATUS" for every answer that carried an X-Request-ID

local method, path, window, tag_prefix, body
local headers = {}
local deadline = nil

function init(args)
  method, path, window, tag_prefix = args[1], args[2], tonumber(args[3]), args[4]
  body = args[5] or ""
  if body ~= "" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
end

function delay()
  local moment = now()
  if deadline == nil then
    deadline = moment + window
  end
  if moment < deadline then
    return 0
  end
  return 3600 * 1000 -- parked: wrk's own duration ends the run
end

function request()
  if deadline == nil then
    -- wrk calls this once on the first thread to check the script; that one is never sent.
    return wrk.format(method, path, headers, body ~= "" and body or nil)
  end
  sent = sent + 1
  local payload = nil
  if body ~= "" then
    local tag = tag_prefix .. "-" .. id .. "-" .. sent
    headers["X-Request-ID"] = tag
    payload = (body:gsub("BENCHTAG", tag, 1))
  end
  return wrk.format(method, path, headers, payload)
end

function response(status, response_headers, response_body)
  local code = tostring(status)
  statuses[code] = (statuses[code] or 0) + 1
  local tag = response_headers["X-Request-ID"] or response_headers["x-request-id"]
  if tag ~= nil then
    answered[#answered + 1] = tag .. " " .. code
  end
  if deadline ~= nil and now() <= deadline then
    in_window = in_window + 1
  else
    drained = drained + 1
  end
end

local function json_object(entries)
  local parts = {}
  for key, value in pairs(entries) do
    table.insert(parts, string.format("%q:%s", tostring(key), tostring(value)))
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function json_strings(items)
  local parts = {}
  for _, item in ipairs(items) do
    table.insert(parts, string.format("%q", item))
  end
  return "[" .. table.concat(parts, ",") .. "]"
end

function done(summary, latency, requests)
  local totals = { sent = 0, in_window = 0, drained = 0 }
  local codes = {}
  local sent_by_thread = {}
  local tags = {}
  for _, thread in ipairs(threads) do
    for name in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
    for code, count in pairs(thread:get("statuses")) do
      codes[code] = (codes[code] or 0) + count
    end
    sent_by_thread[tostring(thread:get("id"))] = thread:get("sent")
    for _, item in ipairs(thread:get("answered")) do
      table.insert(tags, item)
    end
  end
  local errors = summary.errors
  local result = {
    requests = summary.requests,
    duration_us = summary.duration,
    sent = totals.sent,
    in_window = totals.in_window,
    drained = totals.drained,
    latency_mean_us = latency.mean,
    latency_p50_us = latency:percentile(50),
    latency_p90_us = latency:percentile(90),
    latency_p99_us = latency:percentile(99),
    latency_max_us = latency.max,
    errors = json_object({
      connect = errors.connect,
      read = errors.read,
      write = errors.write,
      status = errors.status,
      timeout = errors.timeout,
    }),
    statuses = json_object(codes),
    sent_by_thread = json_object(sent_by_thread),
    answered = json_strings(tags),
  }
  io.write("FORMYARD_BENCH ", json_object(result), "\n")
end
