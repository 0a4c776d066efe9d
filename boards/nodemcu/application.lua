-- The reference application, the same on both NodeMCU boards (the board's wifi.lua joins the network):
--
--   * joins WiFi, and again after losing it, waiting 1 s, 2 s, 4 s ... up to a minute between attempts;
--   * connects to the broker once WiFi is up, with a will: devices/<id>/presence "offline" (retained, QoS 1),
--     and says devices/<id>/presence "online" (retained, QoS 1) each time it is connected; the client
--     reconnects by itself and sends again what the broker did not acknowledge;
--   * publishes telemetry every `interval` seconds to devices/<id>/telemetry at QoS 1;
--   * obeys commands on devices/<id>/command and answers each on devices/<id>/ack (QoS 1):
--     "interval=N" (seconds, 1 to 3600, kept in settings.txt), "ping", "restart";
--   * keeps its settings in settings.txt, one key=value a line (settings.example.txt lists them).
--
-- dofile("application.lua") returns a function(starling, wifiJoin) that starts it (init.lua calls it).

local SETTINGS = "settings.txt"
local KEYS = { "ssid", "password", "host", "port", "tls", "clientId", "interval", "keepAlive" }

local function loadSettings()
  local settings = { port = "1883", tls = "false", interval = "60", keepAlive = "60" }
  local text = file.getcontents(SETTINGS)
  if text ~= nil then
    for key, value in text:gmatch("([%w]+)=([^\r\n]*)") do
      settings[key] = value
    end
  end
  if settings.clientId == nil then
    settings.clientId = "nodemcu-" .. tostring(node.chipid())
  end
  return settings
end

local function saveSettings(settings)
  local lines = {}
  for _, key in ipairs(KEYS) do
    if settings[key] ~= nil then
      lines[#lines + 1] = key .. "=" .. settings[key]
    end
  end
  return file.putcontents(SETTINGS, table.concat(lines, "\n") .. "\n")
end

return function(starling, wifiJoin)
  local settings = loadSettings()
  local id = settings.clientId
  local topics = {
    presence = "devices/" .. id .. "/presence",
    telemetry = "devices/" .. id .. "/telemetry",
    command = "devices/" .. id .. "/command",
    ack = "devices/" .. id .. "/ack",
  }
  local client = nil
  local sequence = 0
  local telemetryTimer = tmr.create()

  local function sendTelemetry()
    sequence = sequence + 1
    local counters = client.engine.counters
    local body = string.format('{"seq":%d,"heap":%d,"reconnects":%d,"drops":%d}',
      sequence, node.heap(), counters.reconnects, counters.drops)
    local result = client:publish(topics.telemetry, body, 1, false)
    if result < 0 then
      print("telemetry not sent: " .. starling.errorName(result))
    end
  end

  local function startTelemetry()
    telemetryTimer:alarm(tonumber(settings.interval) * 1000, tmr.ALARM_AUTO, sendTelemetry)
  end

  local function obey(command)
    local seconds = command:match("^interval=(%d+)$")
    if seconds ~= nil then
      local value = tonumber(seconds)
      if value < 1 or value > 3600 then
        return "error interval must be 1 to 3600 seconds"
      end
      settings.interval = tostring(value)
      if not saveSettings(settings) then
        return "error settings not saved"
      end
      startTelemetry()
      return "ok interval=" .. value
    elseif command == "ping" then
      return "ok pong"
    elseif command == "restart" then
      tmr.create():alarm(1000, tmr.ALARM_SINGLE, function() node.restart() end)
      return "ok restarting"
    end
    return "error unknown command"
  end

  local events = {}
  function events.connected()
    print("connected to " .. settings.host)
    client:publish(topics.presence, "online", 1, true)
  end
  function events.disconnected(_, code)
    print("broker link down: " .. starling.errorName(code))
  end
  function events.message(_, message)
    if starling.topicText(message) == topics.command then
      local command = starling.payloadText(message)
      client:publish(topics.ack, command .. " -> " .. obey(command), 1, false)
    end
  end
  function events.acknowledged() end

  local function startClient()
    local options = starling.newOptions()
    options.clientId = id
    options.keepAlive = tonumber(settings.keepAlive)
    options.cleanStart = false
    -- Buffers sized for an ESP8266: each byte of buffer is a table slot (12 bytes of heap on Lua 5.1):
    -- 1,408 slots, about 17 KB.
    options.receiveBufferSize = 512
    options.transmitBufferSize = 128
    options.messageSlotSize = 128
    options.inflightWindow = 2
    options.queueSlots = 4
    options.incomingQos2Slots = 4
    options.subscriptionSlots = 2
    -- The backoff jitter differs from board to board (the chip id is a number or a hex string by firmware).
    options.seed = tonumber(tostring(node.chipid()):sub(-6), 16) or 1
    options.will = starling.newWill(topics.presence, "offline", 1, true)
    local endpoint = { host = settings.host, port = tonumber(settings.port), tls = settings.tls == "true" }
    client = starling.newClient(endpoint, options, events)
    client:connect()
    -- Once: the client keeps its subscriptions across reconnections (and subscribes again when the broker
    -- has lost the session); one more per connection would use up its subscription slots.
    client:subscribe(topics.command, 1)
    startTelemetry()
  end

  -- WiFi: join, and join again with backoff whenever the network is lost.
  local backoffMs = 1000
  local rejoinTimer = tmr.create()
  local join
  join = wifiJoin(settings, function(ip)
    print("WiFi up: " .. ip)
    backoffMs = 1000
    if client == nil then
      startClient()
    end
  end, function(reason)
    print("WiFi down (" .. tostring(reason) .. "), joining again in " .. backoffMs .. " ms")
    rejoinTimer:alarm(backoffMs, tmr.ALARM_SINGLE, function() join() end)
    backoffMs = math.min(backoffMs * 2, 60000)
  end)
  join()
end
