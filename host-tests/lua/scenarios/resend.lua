-- Reconnect with resend, and WiFi loss. A persistent session; 20 QoS 1 messages. The first 10 go out in one
-- burst and every connection is reset at once, with PUBLISHes on the wire and in the driver's queue: the
-- client reconnects and sends them again (DUP). Then one message every 50 ms; after the 15th the access point
-- goes away for 3.5 s (keep-alive 2 s): the link is declared dead, connecting fails while there is no WiFi,
-- messages wait in the queue, and once WiFi is back the client reconnects and delivers them. The host test's
-- subscriber checks that every message arrived.
local common = dofile(test.config.scenarios .. "common.lua")
local starling = common.starling
local options = common.options({
  cleanStart = false, keepAlive = 2, inflightWindow = 4, queueSlots = 24, messageSlotSize = 96,
  backoffInitialMs = 100, backoffMaxMs = 400, connectTimeoutMs = 1000,
})
if options.protocolVersion == 5 then
  options.sessionExpiry = 300
end
local TOTAL = 20
local topic = test.config.topic
local client
local sent, acked = 0, {}
local ackedCount = 0
local connects = 0
local ticker = tmr.create()

local function publishNext()
  sent = sent + 1
  local result = client:publish(topic, "seq " .. sent, 1, false)
  test.check(result > 0, "publish " .. sent .. ": " .. starling.errorName(result))
end

local events = {}
function events.connected(_, sessionPresent)
  connects = connects + 1
  test.emit("connected", connects, tostring(sessionPresent))
  if connects == 1 then
    for _ = 1, 10 do
      publishNext()
    end
    test.emit("reset", test.imitation.sends)
    test.imitation.resetConnections()
  elseif connects == 2 then
    ticker:alarm(50, tmr.ALARM_AUTO, function(t)
      if sent >= TOTAL then
        t:unregister()
        return
      end
      publishNext()
      if sent == 15 then
        test.emit("wifi", "lost")
        test.imitation.setWifiAvailable(false)
        tmr.create():alarm(3500, tmr.ALARM_SINGLE, function()
          test.emit("wifi", "back")
          test.imitation.setWifiAvailable(true)
        end)
      end
    end)
  end
end
function events.disconnected(_, code)
  test.emit("disconnected", starling.errorName(code), client.lastSocketError)
  if code == 0 then
    test.finish()
  end
end
function events.message() end
function events.acknowledged(_, packetType, packetId, reasonCode)
  if packetType == 4 and not acked[packetId] then
    acked[packetId] = true
    ackedCount = ackedCount + 1
    if ackedCount == TOTAL then
      local counters = client.engine.counters
      test.emit("counters", counters.reconnects, counters.retransmits, counters.drops)
      client:disconnect()
    end
  end
end
client = common.client(options, events)
client:connect()
