-- The codec vectors (host-tests/lua/codec-vectors.ts, compiled to Lua): every encode vector, then every decode
-- case of the file given as `cases` (a Lua file returning { {hex, version, maximumPacketSize}, ... }), one line
-- each, for the host test to compare with what the same code gives in Node.
local vectors = dofile(test.config.vectors)
local encoded = vectors.encodeVectors()
for i = 1, #encoded do
  test.emit("encode", encoded[i])
end
local cases = dofile(test.config.cases)
for i = 1, #cases do
  local case = cases[i]
  test.emit("decode", i, vectors.decodeVector(case[1], case[2], case[3]))
end
test.finish()
