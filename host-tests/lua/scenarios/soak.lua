-- 10,000 messages round trip (published at QoS 1 to a topic the client subscribes to at QoS 1), with the Lua
-- heap measured after a full collection every 1,000: a client that kept anything per message would grow.
local common = dofile(test.config.scenarios .. "common.lua")
local starling = common.starling
local options = common.options({ keepAlive = 60, inflightWindow = 4, queueSlots = 4, messageSlotSize = 96 })
local TOTAL = tonumber(test.config.messages or "10000")
local topic = "starling/lua/soak/" .. test.config.clientId
local client
local published, received = 0, 0
local baseline, highest = nil, 0

local function publish()
  while published < TOTAL and client.engine.pendingMessages < options.inflightWindow do
    published = published + 1
    local result = client:publish(topic, "message " .. published, 1, false)
    test.check(result > 0, "publish: " .. starling.errorName(result))
  end
end

local events = {}
function events.connected()
  client:subscribe(topic, 1)
end
function events.acknowledged(_, packetType)
  if packetType == 9 or packetType == 4 then
    publish()
  end
end
function events.message(_, message)
  received = received + 1
  test.check(message.payloadLength == #("message " .. received), "message " .. received .. " out of order")
  if received % 1000 == 0 then
    collectgarbage("collect")
    local kb = collectgarbage("count")
    if received == 1000 then
      baseline = kb
    end
    if kb > highest then
      highest = kb
    end
    test.emit("heap", received, string.format("%.1f", kb))
  end
  if received == TOTAL then
    test.emit("memory", string.format("%.1f", baseline), string.format("%.1f", highest))
    client:disconnect()
  end
end
function events.disconnected(_, code)
  if code == 0 then
    test.finish()
  else
    test.fail("link lost: " .. starling.errorName(code))
  end
end
client = common.client(options, events)
client:connect()
