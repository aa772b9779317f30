-- wrk script for bench/serve_load.sh: every request POSTs the image file named by the environment
-- variable LUMEN_BENCH_IMAGE to the path wrk is given (/v1/embed); non-200 answers are counted.
local f = assert(io.open(os.getenv("LUMEN_BENCH_IMAGE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "application/octet-stream"

local bad = 0
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("lua: %d requests, %d errors (non-2xx %d)\n", summary.requests,
                         summary.errors.status, bad))
end
