-- The byte layer's primitives in plain Lua (typed in byte-layer.d.ts, exported by bytes.ts): the hottest
-- code of the client, written against Lua itself rather than through typescript-to-lua's helpers.
--
-- A buffer the client writes (receive, transmit, message slots) is a table of numbers 0-255; byte i (from 0,
-- as the TypeScript code counts) is t[i + 1], which is also how typescript-to-lua indexes an array. A buffer
-- the client only reads may instead be a Lua string: a TCP segment as the firmware delivered it, or a
-- payload the application passed as a string. So a received packet is decoded where it lies, and a string
-- payload is copied once, into the packet, and nowhere else.

local byte, char, sub, rep, concat, type = string.byte, string.char, string.sub, string.rep, table.concat, type
local unpack = table.unpack or unpack

-- string.char(unpack(...)) takes its bytes as arguments, which live on the Lua stack: at most this many at a
-- time, far below the stack limit of any Lua (LUAI_MAXCSTACK is 8000).
local CHUNK = 200
-- Pieces of a long string being built, reused so that building one makes no table.
local pieces = {}

local M = {}

-- A buffer of up to this many bytes is made in one table constructor, which sizes it exactly; filled one by one,
-- a table grows to the next power of two (a 600-byte buffer would take 1,024 slots). The constructor's values
-- pass through the Lua stack, which grows for them once: hence the bound.
local EXACT = 1024

function M.newBytes(size)
  if size <= EXACT then
    return { byte(rep("\0", size), 1, size) }
  end
  local t = {}
  for i = 1, size do
    t[i] = 0
  end
  return t
end

function M.byteAt(buffer, index)
  if type(buffer) == "string" then
    return byte(buffer, index + 1)
  end
  return buffer[index + 1]
end

function M.setByte(buffer, index, value)
  buffer[index + 1] = value
end

function M.bytesLength(buffer)
  return #buffer
end

function M.copyBytes(target, targetOffset, source, sourceOffset, length)
  if type(source) == "string" then
    for i = 1, length do
      target[targetOffset + i] = byte(source, sourceOffset + i)
    end
  else
    for i = 1, length do
      target[targetOffset + i] = source[sourceOffset + i]
    end
  end
end

-- Text is a byte string already: its bytes go in as they are (the caller checked them with utf8Length).
function M.writeUtf8(target, offset, text)
  local count = #text
  for i = 1, count do
    target[offset + i] = byte(text, i)
  end
  return offset + count
end

-- A string of buffer[offset .. offset+length): a piece of a string, or a table's bytes CHUNK at a time.
function M.bytesToString(buffer, offset, length)
  if type(buffer) == "string" then
    return sub(buffer, offset + 1, offset + length)
  end
  if length <= CHUNK then
    return char(unpack(buffer, offset + 1, offset + length))
  end
  local count = 0
  local at = offset + 1
  local last = offset + length
  while at <= last do
    local stop = at + CHUNK - 1
    if stop > last then
      stop = last
    end
    count = count + 1
    pieces[count] = char(unpack(buffer, at, stop))
    at = stop + 1
  end
  local text = concat(pieces, "", 1, count)
  for i = 1, count do
    pieces[i] = nil
  end
  return text
end

return M
