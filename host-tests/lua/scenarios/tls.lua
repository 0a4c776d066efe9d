-- TLS through the ESP8266 firmware's tls module: the broker's certificate checked against the CA in the board's
-- file system (tls.cert.verify), then a QoS 1 message to our own topic and back. With expectFailure=true it ends
-- after three failed attempts instead: the firmware has no tls module (the ESP32, or a build without it), or
-- the certificate is not signed by that CA.
local common = dofile(test.config.scenarios .. "common.lua")
local starling = common.starling
local options = common.options({ keepAlive = 30, backoffInitialMs = 100, backoffMaxMs = 200 })
local topic = "starling/lua/tls/" .. test.config.clientId
local client
local failedAttempts = 0
local events = {}
function events.connected()
  test.emit("connected")
  client:subscribe(topic, 1)
end
function events.acknowledged(_, packetType)
  if packetType == 9 then
    client:publish(topic, "over tls", 1, false)
  end
end
function events.message(_, message)
  test.emit("message", starling.payloadText(message))
  client:disconnect()
end
function events.disconnected(_, code)
  test.emit("disconnected", starling.errorName(code), client.lastSocketError)
  if code == 0 then
    test.finish()
  elseif test.config.expectFailure == "true" and client.engine.counters.connects == 0 then
    failedAttempts = failedAttempts + 1
    if failedAttempts == 3 then
      test.finish()
    end
  end
end
if tls ~= nil then
  tls.cert.verify(file.getcontents("ca.crt"))
end
client = starling.newClient({ host = "127.0.0.1", port = tonumber(test.config.port), tls = true }, options, events)
client:connect()
