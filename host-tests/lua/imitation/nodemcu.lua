-- An imitation of the NodeMCU firmware modules the client and the reference firmware use (net, tmr, node,
-- wifi, file, and bit where the Lua has none), for running them on a desktop Lua or in fengari. README.md says
-- what it imitates and what it does not. It runs over a transport (transport-luasocket.lua, or the Node one
-- in host-tests/lua/fengari.ts) that offers plain TCP: connect, send, close, poll for events, and a clock.
--
-- Like the firmware, it calls Lua only from its own loop: every callback is a task of its own (never from
-- inside the call that caused it), received data arrives one TCP segment (at most 1460 bytes) per "receive".

local M = {}

local SEGMENT = 1460
-- lwIP's send buffer on ESP8266 (TCP_SND_BUF, two segments): a larger send fails with ERR_MEM.
local SEND_BUFFER = 2920
-- tmr's longest interval.
local MAX_TIMEOUT = 6870947
-- lwIP 1.4 error codes, as the firmware passes them to "reconnection"/"disconnection".
local ERR_ABRT, ERR_RST = -10, -11

function M.install(transport)
  local control = { wifiAvailable = true, sends = 0, sendsRefused = 0, receives = 0, largestReceive = 0 }
  local started = transport.now()
  local function nowMs()
    return (transport.now() - started) * 1000
  end

  -- Tasks: callbacks queued to run one after another from the loop.
  local tasks, taskHead, taskTail = {}, 1, 0
  local function post(fn, a, b, c)
    taskTail = taskTail + 1
    tasks[taskTail] = { fn, a, b, c }
  end

  ---------------------------------------------------------------- tmr
  local timers = {}
  local Timer = {}
  Timer.__index = Timer
  tmr = { ALARM_SINGLE = 0, ALARM_SEMI = 1, ALARM_AUTO = 2 }
  function tmr.create()
    return setmetatable({ registered = false, running = false }, Timer)
  end
  local function checkInterval(interval)
    if type(interval) ~= "number" then
      error("bad argument #1 to 'register' (number expected)")
    end
    if math.floor(interval) ~= interval then
      error("number has no integer representation")
    end
    if interval <= 0 or interval > MAX_TIMEOUT then
      error("wrong arg range")
    end
  end
  function Timer:register(interval, mode, fn)
    checkInterval(interval)
    if mode ~= tmr.ALARM_SINGLE and mode ~= tmr.ALARM_SEMI and mode ~= tmr.ALARM_AUTO then
      error("wrong arg type")
    end
    if type(fn) ~= "function" then
      error("bad argument #3 to 'register' (function expected)")
    end
    timers[self] = nil
    self.interval, self.mode, self.fn = interval, mode, fn
    self.registered, self.running = true, false
  end
  function Timer:start()
    if not self.registered then
      return false
    end
    self.running = true
    self.due = nowMs() + self.interval
    timers[self] = true
    return true
  end
  function Timer:stop()
    if not self.registered then
      return false
    end
    self.running = false
    timers[self] = nil
    return true
  end
  function Timer:unregister()
    timers[self] = nil
    self.registered, self.running, self.fn = false, false, nil
  end
  function Timer:alarm(interval, mode, fn)
    self:register(interval, mode, fn)
    return self:start()
  end
  function Timer:interval(interval)
    checkInterval(interval)
    self.interval = interval
  end
  function Timer:state()
    if not self.registered then
      return nil
    end
    return self.running, self.mode
  end
  local function micros()
    return math.floor((transport.now() - started) * 1000000)
  end
  -- tmr.now (ESP8266): the microsecond counter's low 31 bits.
  function tmr.now()
    return micros() % 2147483648
  end
  function tmr.time()
    return math.floor(micros() / 1000000)
  end

  ---------------------------------------------------------------- node
  node = {}
  -- node.uptime on an integer build: the low 31 bits, then the next 31.
  function node.uptime()
    local us = micros()
    return us % 2147483648, math.floor(us / 2147483648)
  end
  function node.chipid()
    return 10921734
  end
  -- The Lua heap in use stands in for the free heap (fengari has no collectgarbage("count"): a fixed figure).
  function node.heap()
    local ok, kb = pcall(collectgarbage, "count")
    if not ok then
      return 40000
    end
    return math.floor(kb * 1024)
  end
  function node.restart()
    error("imitation: node.restart() called")
  end

  ---------------------------------------------------------------- net
  local sockets = {}
  local Socket = {}
  Socket.__index = Socket
  net = { TCP = 1, UDP = 2 }
  local EVENTS = { connection = true, disconnection = true, reconnection = true, receive = true, sent = true, dns = true }
  local function newSocket(secure)
    return setmetatable({ callbacks = {}, id = nil, open = false, sending = false, secure = secure }, Socket)
  end
  function net.createConnection(kind, secure)
    kind = kind or net.TCP
    if kind ~= net.TCP then
      error("imitation: only net.TCP is imitated")
    end
    if secure ~= nil and secure ~= 0 then
      error("secure connections not enabled")
    end
    return newSocket(false)
  end

  ---------------------------------------------------------------- tls (ESP8266; only where the transport has TLS)
  -- tls.createConnection() gives a socket with net's API over TLS; tls.cert.verify(pem) makes it check the
  -- broker's certificate against that CA (tls.cert.verify(false): no check, the firmware's default).
  if transport.tlsAvailable then
    local trusted = nil
    tls = { cert = {} }
    function tls.createConnection()
      return newSocket(true)
    end
    function tls.cert.verify(pem)
      if pem == false then
        trusted = nil
      elseif type(pem) == "string" then
        trusted = pem
      end
      return true
    end
    function Socket:trustedCa()
      return trusted
    end
  else
    tls = nil
  end
  function Socket:on(event, fn)
    if not EVENTS[event] then
      error("invalid callback name")
    end
    if fn ~= nil and type(fn) ~= "function" then
      error("invalid callback function")
    end
    self.callbacks[event] = fn
  end
  function Socket:connect(port, host)
    if self.id ~= nil then
      error("already connected")
    end
    if type(port) ~= "number" or port == 0 then
      error("specify port")
    end
    host = host or "127.0.0.1"
    if not control.wifiAvailable then
      -- No route: the connection never comes (lwIP gives up long after the client's own timeout).
      self.id = false
      return
    end
    local id, err
    if self.secure then
      id, err = transport.connect(host, port, true, self:trustedCa())
    else
      id, err = transport.connect(host, port)
    end
    if id == nil then
      error(err or "connect failed")
    end
    self.id = id
    sockets[id] = self
  end
  function Socket:send(data, fn)
    if type(data) == "number" then
      data = tostring(data)
    end
    if type(data) ~= "string" then
      error("bad argument #1 to 'send' (string expected)")
    end
    if #data == 0 then
      error("no data to send")
    end
    if fn ~= nil then
      self.callbacks.sent = fn
    end
    if not self.id or not self.open then
      error("not connected")
    end
    if self.sending or #data > SEND_BUFFER then
      -- One send in flight (README.md: stricter than lwIP, which takes a second one while its buffer has room).
      control.sendsRefused = control.sendsRefused + 1
      error("out of memory")
    end
    self.sending = true
    control.sends = control.sends + 1
    if not control.wifiAvailable then
      -- Into the void: lwIP retransmits, no acknowledgement comes, so no "sent" either.
      return
    end
    local ok, err = transport.send(self.id, data)
    if not ok then
      self.sending = false
      error(err or "connection reset")
    end
    post(function()
      self.sending = false
      local cb = self.callbacks.sent
      if cb ~= nil and self.open then
        cb(self)
      end
    end)
  end
  function Socket:close()
    if not self.id and self.id ~= false then
      error("not connected")
    end
    if self.id then
      sockets[self.id] = nil
      transport.close(self.id)
    end
    self.id, self.open, self.sending = nil, false, false
  end
  function Socket:getpeer()
    return nil, nil
  end

  local function ended(s, code)
    if s.id then
      sockets[s.id] = nil
      transport.close(s.id)
    end
    s.id, s.open, s.sending = nil, false, false
    local cb = s.callbacks.disconnection
    if code ~= 0 and s.callbacks.reconnection ~= nil then
      cb = s.callbacks.reconnection
    end
    if cb ~= nil then
      cb(s, code)
    end
  end

  local function dispatch(event)
    local s = sockets[event.id]
    if s == nil then
      return
    end
    if not control.wifiAvailable then
      -- The radio is gone: nothing from the broker reaches the board, not even its FIN or RST.
      return
    end
    if event.kind == "connected" then
      s.open = true
      local cb = s.callbacks.connection
      if cb ~= nil then
        cb(s)
      end
    elseif event.kind == "data" then
      local data = event.data
      local at = 1
      while at <= #data do
        local piece = data:sub(at, at + SEGMENT - 1)
        at = at + SEGMENT
        post(function()
          local cb = s.callbacks.receive
          if cb ~= nil and s.id then
            control.receives = control.receives + 1
            if #piece > control.largestReceive then
              control.largestReceive = #piece
            end
            cb(s, piece)
          end
        end)
      end
    elseif event.kind == "closed" then
      post(ended, s, 0)
    elseif event.kind == "reset" then
      post(ended, s, ERR_RST)
    else
      post(ended, s, event.kind == "refused" and ERR_RST or ERR_ABRT)
    end
  end

  ---------------------------------------------------------------- file (the two calls both firmwares have)
  -- The board's file system (SPIFFS): a relative name given to dofile, loadfile or file.* is a file there.
  local hostLoadfile = loadfile
  function loadfile(name, ...)
    return hostLoadfile(transport.path(name), ...)
  end
  function dofile(name)
    return assert(loadfile(name))()
  end
  file = {}
  function file.getcontents(name)
    return transport.readFile(name)
  end
  function file.putcontents(name, data)
    if transport.writeFile(name, data) then
      return true
    end
    return nil
  end

  ---------------------------------------------------------------- wifi (wifi.lua)
  local wifiFake = transport.loadfile("wifi.lua")()
  wifi = wifiFake.install(control, post, transport.board or "esp8266")

  ---------------------------------------------------------------- bit
  if bit == nil then
    local ok, module = pcall(require, "bit")
    if ok then
      bit = module
    else
      bit = transport.loadfile("bit53.lua")()
    end
  end

  ---------------------------------------------------------------- the loop
  local function runTasks()
    local last = taskTail
    while taskHead <= last do
      local task = tasks[taskHead]
      tasks[taskHead] = nil
      taskHead = taskHead + 1
      task[1](task[2], task[3], task[4])
    end
  end

  local function runTimers()
    local now = nowMs()
    local due = {}
    for timer in pairs(timers) do
      if timer.due <= now then
        due[#due + 1] = timer
      end
    end
    table.sort(due, function(a, b) return a.due < b.due end)
    for _, timer in ipairs(due) do
      if timers[timer] and timer.due <= now then
        local fn = timer.fn
        if timer.mode == tmr.ALARM_AUTO then
          timer.due = timer.due + timer.interval
        elseif timer.mode == tmr.ALARM_SEMI then
          timer.running = false
          timers[timer] = nil
        else
          timer:unregister()
        end
        fn(timer)
      end
    end
  end

  --- One turn of the loop: due timers, queued tasks, then network events (waiting at most `wait` seconds
  --- for them when nothing else is due). Returns the seconds until the next timer (or `wait`).
  function control.step(wait)
    runTimers()
    runTasks()
    local until_ = wait
    if taskHead <= taskTail then
      until_ = 0
    else
      local now = nowMs()
      for timer in pairs(timers) do
        local left = (timer.due - now) / 1000
        if left < until_ then
          until_ = left
        end
      end
      if until_ < 0 then
        until_ = 0
      end
    end
    local events = transport.poll(until_)
    for i = 1, #events do
      dispatch(events[i])
    end
    return until_
  end

  -- The test's hand on the link: the broker's side resets every connection (as a NAT or an access point
  -- dropping them would), which the board hears as "reconnection" with ERR_RST.
  function control.resetConnections()
    transport.resetAll()
    -- lwIP reports a reset as it happens: nothing more is sent or acknowledged on these sockets.
    for _, s in pairs(sockets) do
      s.open = false
    end
  end
  control.nowMs = nowMs
  control.post = post
  control.openSockets = function()
    local n = 0
    for _ in pairs(sockets) do
      n = n + 1
    end
    return n
  end
  return control
end

return M
