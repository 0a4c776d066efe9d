-- What the scenarios share: the client module, options from the settings, and a client whose events the
-- scenario fills in. dofile'd by each scenario.
local common = {}

common.starling = dofile(test.config.bundle)

function common.options(overrides)
  local options = common.starling.newOptions()
  options.protocolVersion = tonumber(test.config.version or "4")
  options.clientId = test.config.clientId
  for key, value in pairs(overrides or {}) do
    options[key] = value
  end
  return options
end

function common.client(options, events)
  return common.starling.newClient({ host = "127.0.0.1", port = tonumber(test.config.port), tls = false }, options, events)
end

return common
