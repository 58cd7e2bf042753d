-- Shared by the bench scripts: numbering threads and printing one JSON result line.
local common = {}

local threads = {}

-- Called in wrk's main state for each thread before it starts: gives it a 1-based index.
function common.setup(thread)
   table.insert(threads, thread)
   thread:set("index", #threads)
end

local function sum(name)
   local total = 0
   for _, thread in ipairs(threads) do
      total = total + (thread:get(name) or 0)
   end
   return total
end

-- The line bench/wrk.py parses; per-thread counters are summed over all threads.
function common.report(summary, latency, counters)
   local errors = summary.errors
   local parts = {
      string.format('"requests":%d', summary.requests),
      string.format('"duration_us":%d', summary.duration),
      string.format('"bytes":%d', summary.bytes),
      string.format('"errors":%d', errors.connect + errors.read + errors.write + errors.timeout),
      string.format('"bad_status":%d', errors.status),
      string.format('"p50_us":%d', latency:percentile(50)),
      string.format('"p99_us":%d', latency:percentile(99)),
   }
   for _, name in ipairs(counters or {}) do
      table.insert(parts, string.format('"%s":%d', name, sum(name)))
   end
   io.write("BENCH_RESULT {" .. table.concat(parts, ",") .. "}\n")
end

return common
