-- A consumer-group member per wrk thread (run it with one connection per thread): fetch a
-- lease, ack all of it, fetch the next, as a worker pool's members do.
-- args: topic group max_messages
local common = require("common")

setup = common.setup

messages = 0
empties = 0

local fetch, ack_path, lease

function init(args)
   local base = string.format("/topics/%s/groups/%s/", args[1], args[2])
   local member = "wrk-" .. wrk.thread:get("index")
   local body = string.format('{"member":"%s","max_messages":%s}', member, args[3])
   fetch = wrk.format("POST", base .. "fetch", { ["Content-Type"] = "application/json" }, body)
   ack_path = base .. "ack"
end

function request()
   if lease then
      local body = string.format('{"lease_id":"%s"}', lease)
      return wrk.format("POST", ack_path, { ["Content-Type"] = "application/json" }, body)
   end
   return fetch
end

-- Messages are counted from the acks' answers: a message counts once it is finished.
function response(status, headers, body)
   if lease then
      lease = nil
      messages = messages + (tonumber(string.match(body, '"acked":(%d+)')) or 0)
      return
   end
   lease = string.match(body, '"lease_id":"([^"]+)"')
   if not lease then
      empties = empties + 1
   end
end

function done(summary, latency, requests)
   common.report(summary, latency, { "messages", "empties" })
end
