-- Keep-alive and will: with a 1 s keep-alive and nothing to send, the client pings on its own; once a PINGRESP
-- has come back the board loses power (every connection drops, no DISCONNECT), and the broker must publish
-- the will (the host test watches for it).
local common = dofile(test.config.scenarios .. "common.lua")
local starling = common.starling
local options = common.options({ keepAlive = 1 })
options.will = starling.newWill(test.config.willTopic, "offline", 1, false)
local client
local events = {}
function events.connected(_, sessionPresent)
  test.emit("connected", tostring(sessionPresent))
end
function events.disconnected(_, code)
  test.emit("disconnected", starling.errorName(code))
end
function events.message() end
function events.acknowledged() end
client = common.client(options, events)
client:connect()
local watch = tmr.create()
watch:alarm(100, tmr.ALARM_AUTO, function(t)
  local rtt = client.engine.counters.pingRoundTripMs
  if rtt >= 0 then
    t:unregister()
    test.emit("ping", rtt, client.engine.counters.connects)
    test.powerOff()
    test.finish()
  end
end)
