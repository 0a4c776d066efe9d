-- The imitation's transport on luasocket (Debian's lua-socket), for lua5.1 and lua5.3: plain TCP to the
-- loopback broker. connect is made at once (loopback answers at once, or refuses); what happens next comes
-- back from poll() as events, which the imitation turns into the firmware's callbacks.

local socket = require("socket")

local SEGMENT = 1460

-- NODEMCU_DIR: the folder that plays the board's file system; NODEMCU_BOARD: esp8266 or esp32 (the wifi API).
local M = { board = os.getenv("NODEMCU_BOARD") or "esp8266" }
local directory = os.getenv("NODEMCU_DIR")
local hostLoadfile = loadfile
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
local open = {}
local pending = {}
local nextId = 0

function M.loadfile(name)
  return assert(hostLoadfile(here .. name))
end

-- Where a file of the board's file system lives: in NODEMCU_DIR when it is set.
function M.path(name)
  if directory ~= nil and name:sub(1, 1) ~= "/" then
    return directory .. "/" .. name
  end
  return name
end

function M.now()
  return socket.gettime()
end

function M.connect(host, port)
  nextId = nextId + 1
  local id = nextId
  local tcp = socket.tcp()
  tcp:settimeout(2)
  local ok, err = tcp:connect(host, port)
  if not ok then
    tcp:close()
    pending[#pending + 1] = { id = id, kind = err == "connection refused" and "refused" or "failed" }
    return id
  end
  tcp:settimeout(0)
  tcp:setoption("tcp-nodelay", true)
  open[id] = tcp
  pending[#pending + 1] = { id = id, kind = "connected" }
  return id
end

function M.send(id, data)
  local tcp = open[id]
  if tcp == nil then
    return nil, "not connected"
  end
  local at = 1
  while at <= #data do
    local last, err, partial = tcp:send(data, at)
    if last ~= nil then
      at = last + 1
    elseif err == "timeout" then
      at = partial + 1
      socket.select(nil, { tcp }, 1)
    else
      return nil, err
    end
  end
  return true
end

function M.close(id)
  local tcp = open[id]
  if tcp ~= nil then
    open[id] = nil
    tcp:close()
  end
end

-- Every connection closed at once, without notice to the imitation (the board lost power).
function M.closeAll()
  for id in pairs(open) do
    M.close(id)
  end
end

-- Every connection reset: closed here, reported to the imitation as reset.
function M.resetAll()
  for id, tcp in pairs(open) do
    tcp:setoption("linger", { on = true, timeout = 0 })
    M.close(id)
    pending[#pending + 1] = { id = id, kind = "reset" }
  end
end

function M.readFile(name)
  local f = io.open(M.path(name), "rb")
  if f == nil then
    return nil
  end
  local data = f:read("*a")
  f:close()
  return data
end

function M.writeFile(name, data)
  local f = io.open(M.path(name), "wb")
  if f == nil then
    return false
  end
  f:write(data)
  f:close()
  return true
end

function M.poll(wait)
  local events = pending
  pending = {}
  local list, ids = {}, {}
  for id, tcp in pairs(open) do
    list[#list + 1] = tcp
    ids[tcp] = id
  end
  if #events > 0 then
    wait = 0
  end
  if #list == 0 then
    if wait > 0 then
      socket.sleep(wait)
    end
    return events
  end
  local readable = socket.select(list, nil, wait)
  for _, tcp in ipairs(readable) do
    local id = ids[tcp]
    -- What the kernel holds, a segment's worth at a time.
    while open[id] ~= nil do
      local data, err, partial = tcp:receive(SEGMENT)
      local got = data or partial
      if got ~= nil and #got > 0 then
        events[#events + 1] = { id = id, kind = "data", data = got }
      end
      if err == "closed" then
        M.close(id)
        events[#events + 1] = { id = id, kind = "closed" }
      elseif err ~= nil then
        break
      end
    end
  end
  return events
end

return M
