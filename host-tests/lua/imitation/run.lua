-- Runs one script (a test scenario, or a board's firmware) on the imitation, on lua5.1 or lua5.3 with
-- luasocket:  lua5.1 run.lua SCRIPT [key=value ...]
-- The script sees the firmware's globals (net, tmr, node, wifi, file, bit) and a `test` table (test.lua);
-- the loop runs until the script calls test.finish() or the time limit passes. Output: one line per
-- test.emit(), and the exit code 0 when the script finished with success.

local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
local transport = dofile(here .. "transport-luasocket.lua")
local imitation = dofile(here .. "nodemcu.lua").install(transport)
local test = dofile(here .. "test.lua").new(imitation, arg, function(line)
  io.write(line, "\n")
  io.flush()
end)

local chunk = assert(loadfile(arg[1]))
local ok, err = pcall(chunk)
if not ok then
  test.fail("script error: " .. tostring(err))
end
while not test.finished do
  local stepped, stepError = pcall(imitation.step, 0.05)
  if not stepped then
    test.fail("callback error: " .. tostring(stepError))
  end
  test.checkTime()
end
os.exit(test.passed and 0 or 1)
