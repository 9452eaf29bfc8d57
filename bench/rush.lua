-- wrk script: POST a registration with a unique email on every request.
-- `thread_id` is a global of each thread's Lua state, set by setup(); it must not be shadowed
-- by a local, or every thread would send the same addresses.
local counter = 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"first_name":"Ana","last_name":"Silva","email":"p%d-%d@bench.example.org","organisation":"Policia Municipal",'
    .. '"position":"Inspector","city":"Lisbon","country":"PT","language":"en","consent":true}', thread_id, counter)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
