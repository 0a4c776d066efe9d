-- The imitation itself, where the client's scenarios rely on it: a second send before "sent" fails as on the
-- firmware, "sent" comes from the loop and never from inside send, and what arrives is cut into segments of
-- at most 1,460 bytes. Talks MQTT by hand to the broker: CONNECT, then a 2,800-byte PUBLISH (under the firmware's 2,920-byte send buffer) to a topic it
-- has subscribed to, which comes back in pieces.
local function remaining(n)
  local out = ""
  repeat
    local digit = n % 128
    n = math.floor(n / 128)
    if n > 0 then
      digit = digit + 128
    end
    out = out .. string.char(digit)
  until n == 0
  return out
end
local function utf(text)
  return string.char(math.floor(#text / 256), #text % 256) .. text
end
local topic = "starling/lua/imitation/" .. test.config.clientId
local connect = "\0\4MQTT\4\2\0\60" .. utf(test.config.clientId)
local subscribe = "\0\1" .. utf(topic) .. "\0"
local body = utf(topic) .. string.rep("x", 2800)
local packets = {
  "\16" .. remaining(#connect) .. connect,
  "\130" .. remaining(#subscribe) .. subscribe,
  "\48" .. remaining(#body) .. body,
}
local step = 0
local received = 0
local inSend = false
local sck = net.createConnection(net.TCP)
local function sendNext(s)
  step = step + 1
  if packets[step] ~= nil then
    inSend = true
    s:send(packets[step])
    inSend = false
  end
end
sck:on("connection", function(s)
  sendNext(s)
  local ok, err = pcall(s.send, s, "\192\0")
  test.emit("second send", tostring(ok), tostring(err):match("out of memory") or tostring(err))
end)
sck:on("sent", function(s)
  test.check(not inSend, "sent fired inside send")
  if step < #packets then
    sendNext(s)
  end
end)
sck:on("receive", function(_, data)
  received = received + #data
  test.emit("receive", #data)
  -- CONNACK 4 + SUBACK 5 + the PUBLISH back (2,800 + topic + header)
  if received >= 4 + 5 + #body + 3 then
    sck:close()
    test.finish()
  end
end)
sck:connect(tonumber(test.config.port), "127.0.0.1")
