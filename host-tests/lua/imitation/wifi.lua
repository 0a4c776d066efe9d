-- A fake of NodeMCU's wifi module for a station: the calls the reference firmware makes, with the firmware's
-- names, constants and callback arguments, for ESP8266 (wifi.setmode, wifi.sta.config{...}, wifi.eventmon)
-- and for ESP32 (wifi.mode, wifi.start, wifi.sta.config(cfg, save), wifi.sta.on). There is no radio: joining
-- succeeds (after a short delay, as a DHCP lease would) while the test says an access point is there
-- (control.wifiAvailable), and fails with "no AP found" otherwise; taking it away disconnects the station.

local M = {}

local JOIN_DELAY_MS = 50
local REASON_NO_AP_FOUND = 201
local REASON_BEACON_TIMEOUT = 200
local IP, NETMASK, GATEWAY = "192.168.4.2", "255.255.255.0", "192.168.4.1"

function M.install(control, post, board)
  local w = { NULLMODE = 0, STATION = 1, SOFTAP = 2, STATIONAP = 3 }
  w.STA_IDLE, w.STA_CONNECTING, w.STA_WRONGPWD, w.STA_APNOTFOUND, w.STA_FAIL, w.STA_GOTIP = 0, 1, 2, 3, 4, 5
  local mode = w.NULLMODE
  local started = board ~= "esp32"
  local config = nil
  local status = w.STA_IDLE
  local joinTimer = nil
  local handlers = {}
  w.sta = {}
  control.wifiJoins = 0

  -- The two firmwares report the same events differently.
  local function emit(name, info)
    local fn = handlers[name]
    if fn == nil then
      return
    end
    if board == "esp32" then
      fn(name, info)
    else
      fn(info)
    end
  end
  local ESP8266_EVENTS = { [0] = "connected", [1] = "disconnected", [3] = "got_ip" }

  local function lose(reason)
    if status == w.STA_GOTIP or status == w.STA_CONNECTING then
      status = reason == REASON_NO_AP_FOUND and w.STA_APNOTFOUND or w.STA_IDLE
      emit("disconnected", { SSID = config and config.ssid, ssid = config and config.ssid, reason = reason })
    end
  end

  local function join()
    if mode ~= w.STATION and mode ~= w.STATIONAP then
      error("imitation: station mode not set")
    end
    if not started then
      error("imitation: wifi.start() not called")
    end
    if config == nil then
      error("imitation: wifi.sta.config() not called")
    end
    control.wifiJoins = control.wifiJoins + 1
    status = w.STA_CONNECTING
    joinTimer = tmr.create()
    joinTimer:alarm(JOIN_DELAY_MS, tmr.ALARM_SINGLE, function()
      joinTimer = nil
      if status ~= w.STA_CONNECTING then
        return
      end
      if not control.wifiAvailable then
        lose(REASON_NO_AP_FOUND)
        return
      end
      status = w.STA_GOTIP
      emit("connected", { SSID = config.ssid, ssid = config.ssid, channel = 6 })
      emit("got_ip", { IP = IP, netmask = NETMASK, gateway = GATEWAY, ip = IP, gw = GATEWAY })
    end)
  end

  -- The test's hand on the access point.
  function control.setWifiAvailable(available)
    control.wifiAvailable = available
    if not available then
      post(lose, REASON_BEACON_TIMEOUT)
    end
  end

  -- ESP8266
  function w.setmode(m)
    mode = m
    return m
  end
  function w.getmode()
    return mode
  end
  -- ESP32
  function w.mode(m)
    mode = m
  end
  function w.start()
    started = true
  end
  function w.stop()
    started = false
    lose(REASON_BEACON_TIMEOUT)
  end

  function w.sta.config(cfg)
    if type(cfg) ~= "table" or type(cfg.ssid) ~= "string" then
      error("imitation: wifi.sta.config takes a table with ssid")
    end
    config = cfg
    local auto = cfg.auto
    if auto == nil then
      auto = board ~= "esp32"
    end
    if auto then
      post(join)
    end
    return true
  end
  function w.sta.connect()
    if status ~= w.STA_CONNECTING and status ~= w.STA_GOTIP then
      join()
    end
  end
  function w.sta.disconnect()
    if joinTimer ~= nil then
      joinTimer:unregister()
      joinTimer = nil
    end
    if status == w.STA_GOTIP or status == w.STA_CONNECTING then
      status = w.STA_IDLE
      emit("disconnected", { SSID = config.ssid, ssid = config.ssid, reason = 8 })
    end
  end
  function w.sta.status()
    return status
  end
  function w.sta.getip()
    if status == w.STA_GOTIP then
      return IP, NETMASK, GATEWAY
    end
    return nil
  end
  -- ESP32: wifi.sta.on(event, function(event, info))
  function w.sta.on(name, fn)
    handlers[name] = fn
  end
  -- ESP8266: wifi.eventmon.register(wifi.eventmon.STA_GOT_IP, function(T))
  w.eventmon = {
    STA_CONNECTED = 0, STA_DISCONNECTED = 1, STA_AUTHMODE_CHANGE = 2, STA_GOT_IP = 3, STA_DHCP_TIMEOUT = 4,
    reason = { BEACON_TIMEOUT = REASON_BEACON_TIMEOUT, NO_AP_FOUND = REASON_NO_AP_FOUND },
  }
  function w.eventmon.register(event, fn)
    local name = ESP8266_EVENTS[event]
    if name == nil then
      error("imitation: only STA_CONNECTED, STA_DISCONNECTED and STA_GOT_IP are imitated")
    end
    handlers[name] = fn
  end
  function w.eventmon.unregister(event)
    handlers[ESP8266_EVENTS[event]] = nil
  end
  return w
end

return M
