-- Runs one script (a test scenario, or a board's firmware) on the imitation, on lua5.1 or lua5.3 with
-- luasocket:  lua5.1 run.lua SCRIPT [key=value ...]
-- The script sees the firmware's globals (net, tmr, node, wifi, file, bit) and a `test` table (test.lua);
-- the loop runs until the script calls test.finish() or test.fail(), or its time limit passes. Output: one
-- line per test.emit(); exit code 0 when the script finished with success.

local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
local transport = dofile(here .. "transport-luasocket.lua")
local settings = {}
for i = 2, #arg do
  local key, value = arg[i]:match("^([^=]+)=(.*)$")
  if key ~= nil then
    settings[key] = value
  end
end
local session = dofile(here .. "session.lua").start(transport, arg[1], settings, function(line)
  io.write(line, "\n")
  io.flush()
end)
while not session.test.finished do
  session.step(0.05)
end
transport.closeAll()
os.exit(session.test.passed and 0 or 1)
