-- The `test` table a script gets: its settings (key=value arguments), emit() for results the host checks,
-- finish()/fail(), and the imitation's controls (the access point, the clock).

local M = {}

function M.new(imitation, settings, write, transport)
  local test = { finished = false, passed = false, config = settings, imitation = imitation }
  -- The device loses power: every connection drops at once, with no DISCONNECT sent.
  function test.powerOff()
    transport.closeAll()
  end
  local limitMs = tonumber(test.config.timeLimitMs or "60000")
  function test.emit(...)
    local parts = {}
    for i = 1, select("#", ...) do
      parts[#parts + 1] = tostring((select(i, ...)))
    end
    write(table.concat(parts, "\t"))
  end
  function test.finish()
    if not test.finished then
      test.finished, test.passed = true, true
      test.emit("finished")
    end
  end
  function test.fail(message)
    if not test.finished then
      test.finished, test.passed = true, false
      test.emit("failed", message)
    end
  end
  function test.checkTime()
    if imitation.nowMs() > limitMs then
      test.fail("time limit of " .. limitMs .. " ms reached")
    end
  end
  -- A script asserts with this: a failed check ends the run with its message.
  function test.check(condition, message)
    if not condition then
      test.fail(message)
      error(message, 2)
    end
  end
  _G.test = test
  return test
end

return M
