-- GET /consumer/consume with one consumer id per wrk thread (run it with one connection
-- per thread, so no two requests in flight ever share a consumer).
-- args: topic max_messages consumer_id... (max_messages 0 = the single-message form)
local common = require("common")

setup = common.setup

messages = 0
empties = 0

function init(args)
   local topic, max_messages = args[1], tonumber(args[2])
   local consumer_id = args[2 + wrk.thread:get("index")]
   assert(consumer_id, "fewer consumer ids than wrk threads")
   wrk.path = string.format("/consumer/consume?topic=%s&consumer_id=%s", topic, consumer_id)
   if max_messages > 0 then
      wrk.path = wrk.path .. "&max_messages=" .. max_messages
   end
end

-- Every message in either response shape carries exactly one "offset" key.
function response(status, headers, body)
   local count, position = 0, 1
   while true do
      position = string.find(body, '"offset":', position, true)
      if not position then
         break
      end
      count = count + 1
      position = position + 9
   end
   messages = messages + count
   if count == 0 then
      empties = empties + 1
   end
end

function done(summary, latency, requests)
   common.report(summary, latency, { "messages", "empties" })
end
