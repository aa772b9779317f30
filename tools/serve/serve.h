// The `lumen serve` command: its keys and the program (SIGTERM / SIGINT stop it gracefully).
#pragma once

#include <string>
#include <vector>

#include "api/config.h"

namespace lumen::serve {

// The model keys of `lumen embed` (checkpoint, model.name, model.width, collate.input_size,
// device, trainer.precision, seed) and the server's (host, port, max_batch, max_delay_ms, workers,
// threads, max_queue, max_body_mb, http_threads).
std::vector<ConfigKey> serve_config_schema();

// Opens the model, binds, prints "lumen serve: listening on http://HOST:PORT ..." on stdout and
// serves until SIGTERM or SIGINT, then finishes the requests in flight and returns 0.
int run_serve(const std::vector<std::string>& args);

}  // namespace lumen::serve
