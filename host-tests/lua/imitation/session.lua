-- One run of a script on the imitation, whatever the host: run.lua (lua5.1/lua5.3 on luasocket) loops over
-- step(); host-tests/lua/fengari.ts calls step() from Node's event loop.

local M = {}

function M.start(transport, script, settings, write)
  local imitation = transport.loadfile("nodemcu.lua")().install(transport)
  local test = transport.loadfile("test.lua")().new(imitation, settings, write, transport)
  local chunk, loadError = loadfile(script)
  if chunk == nil then
    test.fail("cannot load " .. script .. ": " .. tostring(loadError))
  else
    local ok, err = pcall(chunk)
    if not ok then
      test.fail("script error: " .. tostring(err))
    end
  end
  local session = { test = test }
  --- One turn of the loop; returns the seconds until something is due, and whether the run has ended.
  function session.step(wait)
    local ok, result = pcall(imitation.step, wait)
    if not ok then
      test.fail("callback error: " .. tostring(result))
      result = 0
    end
    test.checkTime()
    return result, test.finished
  end
  return session
end

return M
