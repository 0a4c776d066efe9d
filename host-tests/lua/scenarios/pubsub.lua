-- Connect, subscribe to our own topic at QoS 2, publish at QoS 0, 1 and 2 (a payload larger than a TCP segment
-- among them), and receive each back exactly as sent; then a clean disconnect.
local starling = dofile(test.config.bundle)
local version = tonumber(test.config.version)
local topic = "starling/lua/" .. test.config.clientId

local options = starling.newOptions()
options.protocolVersion = version
options.clientId = test.config.clientId
options.keepAlive = 30
options.receiveBufferSize = 4096
options.messageSlotSize = 4096
options.transmitBufferSize = 256

local big = string.rep("0123456789abcdef", 200) -- 3,200 bytes: three segments each way
local payloads = { "qos0 \0 binary \255", "qos1 héllo", "qos2", big }
local qosOf = { 0, 1, 2, 1 }
local received = 0
local seen = {}
local client

local events = {}
function events.connected(_, sessionPresent)
  test.emit("connected", tostring(sessionPresent))
  client:subscribe(topic, 2)
end
function events.acknowledged(_, packetType, packetId, reasonCode)
  test.emit("acknowledged", packetType, packetId, reasonCode)
  if packetType == 9 then -- SUBACK
    for i = 1, #payloads do
      local result = client:publish(topic, payloads[i], qosOf[i], false)
      test.check(result >= 0, "publish " .. i .. " failed: " .. starling.errorName(result))
    end
  end
end
function events.message(_, message)
  local payload = starling.payloadText(message)
  test.check(starling.topicText(message) == topic, "topic")
  -- QoS flows finish in their own time: messages are matched by payload, each expected once.
  local index = nil
  for i = 1, #payloads do
    if payloads[i] == payload and not seen[i] then
      index = i
    end
  end
  test.check(index ~= nil, "unexpected or repeated payload of " .. #payload .. " bytes")
  seen[index] = true
  received = received + 1
  test.emit("message", index, message.qos, #payload)
  if received == #payloads then
    client:disconnect()
  end
end
function events.disconnected(_, code)
  test.emit("disconnected", starling.errorName(code))
  if code == 0 then
    test.emit("sends", test.imitation.sends, "refused", test.imitation.sendsRefused)
    test.emit("receives", test.imitation.receives, "largest", test.imitation.largestReceive)
    test.finish()
  end
end

client = starling.newClient({ host = "127.0.0.1", port = tonumber(test.config.port), tls = false }, options, events)
client:connect()
