-- Joining WiFi on NodeMCU for ESP8266 (wifi.setmode, wifi.sta.config{...}, wifi.eventmon). Returns a function
-- (settings, onUp(ip), onDown(reason)) that sets the station up and returns the function that (re)joins.
-- auto = false: the application decides when to join again (with backoff), not the SDK.
return function(settings, onUp, onDown)
  wifi.setmode(wifi.STATION)
  wifi.eventmon.register(wifi.eventmon.STA_GOT_IP, function(T) onUp(T.IP) end)
  wifi.eventmon.register(wifi.eventmon.STA_DISCONNECTED, function(T) onDown(T.reason) end)
  wifi.sta.config({ ssid = settings.ssid, pwd = settings.password, auto = false, save = false })
  return wifi.sta.connect
end
