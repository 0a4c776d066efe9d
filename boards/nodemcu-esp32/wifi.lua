-- Joining WiFi on NodeMCU for ESP32 (wifi.mode, wifi.start, wifi.sta.config(cfg, save), wifi.sta.on). Returns a
-- function (settings, onUp(ip), onDown(reason)) that sets the station up and returns the function that
-- (re)joins. auto = false: the application decides when to join again (with backoff), not the IDF.
return function(settings, onUp, onDown)
  wifi.mode(wifi.STATION)
  wifi.start()
  wifi.sta.on("got_ip", function(_, info) onUp(info.ip) end)
  wifi.sta.on("disconnected", function(_, info) onDown(info.reason) end)
  wifi.sta.config({ ssid = settings.ssid, pwd = settings.password, auto = false }, false)
  return wifi.sta.connect
end
