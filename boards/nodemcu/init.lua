-- NodeMCU runs init.lua at boot. It waits 3 seconds first, so that a board caught in a reboot loop can still
-- be reached (file.remove("init.lua") over the serial console), then loads the client and the application.
--
-- The client comes from LFS when it was flashed there (its code then stays in flash and costs almost no heap),
-- else from starling.lua in the file system (compiled into RAM at every boot: see the README).

local function loadClient()
  local lfs = node.LFS
  if lfs ~= nil and lfs.get ~= nil then
    local module = lfs.get("starling")
    if module ~= nil then
      return module()
    end
  elseif node.flashindex ~= nil then
    -- Firmware before 2020: the same lookup under its older name.
    local module = node.flashindex("starling")
    if module ~= nil then
      return module()
    end
  end
  return dofile("starling.lua")
end

tmr.create():alarm(3000, tmr.ALARM_SINGLE, function()
  local starling = loadClient()
  dofile("application.lua")(starling, dofile("wifi.lua"))
end)
