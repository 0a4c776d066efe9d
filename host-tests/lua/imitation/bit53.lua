-- NodeMCU's bit module for a Lua 5.3 that has none (fengari): its functions, with 32-bit signed results,
-- made of 5.3's own operators. Loaded only there (5.1 cannot parse this file).
local wide = math.maxinteger > 2147483647
local function signed(x)
  if wide then
    x = x & 0xffffffff
    if x >= 0x80000000 then
      return x - 0x100000000
    end
  end
  return x
end
local bit = {}
function bit.band(a, b) return signed(a & b) end
function bit.bor(a, b) return signed(a | b) end
function bit.bxor(a, b) return signed(a ~ b) end
function bit.bnot(a) return signed(~a) end
function bit.lshift(a, n) return signed(a << n) end
function bit.rshift(a, n)
  if wide then
    a = a & 0xffffffff
  end
  return signed(a >> n)
end
function bit.arshift(a, n)
  a = signed(a)
  if a >= 0 then
    return a >> n
  end
  return signed(~((~a) >> n))
end
return bit
