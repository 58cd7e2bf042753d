-- POST /producer/produce with one fixed body: a single message, or a batch of them.
-- args: topic producer_id message_bytes batch_size (batch_size 0 = the single-message form)
local common = require("common")

setup = common.setup

function init(args)
   local topic, producer_id = args[1], args[2]
   local message = '"' .. string.rep("x", tonumber(args[3])) .. '"'
   local batch = tonumber(args[4])
   local payload
   if batch == 0 then
      payload = '"message":' .. message
   else
      local messages = {}
      for i = 1, batch do
         messages[i] = message
      end
      payload = '"messages":[' .. table.concat(messages, ",") .. "]"
   end
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   wrk.body = string.format('{"topic":"%s","producer_id":%s,%s}', topic, producer_id, payload)
end

function done(summary, latency, requests)
   common.report(summary, latency)
end
