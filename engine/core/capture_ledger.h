// The memory bookkeeping of a CUDA graph capture on one context (used by CudaContext; plain C++ so
// that the CPU tests check it):
//   - blocks allocated during the capture belong to the graph; the captured code frees them
//     inside it (free nodes);
//   - blocks allocated before the capture and released during it may still be read by the graph,
//     so they are not freed but retained, and handed to the graph's owner to free with the graph;
//   - when a capture is discarded (it failed, or blocks allocated in it are still in use at its
//     end), its blocks never get memory, so releasing them later must free nothing: they are
//     abandoned, and their one release is skipped.
// Thread-safe; active() is a lock-free fast path for the common case (no capture, nothing
// abandoned).
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>
#include <unordered_set>
#include <vector>

namespace lumen {

class CaptureLedger {
 public:
  // What release() must do with a block.
  enum class Release {
    free,             // free it (stream-ordered: inside the capture, a free node)
    free_in_capture,  // free it inside the capture; an error there means the capture failed
    keep,             // retained for the graph: do not free
    skip,             // a block of a discarded capture: nothing to free
  };
  struct Ended {
    std::vector<void*> retained;  // older blocks released during the capture
    size_t outliving = 0;         // blocks allocated during the capture and still in use
  };

  // Starts a capture; throws lumen::Error if one is running.
  void begin();
  bool capturing() const { return capturing_.load(); }
  // True while a capture runs or abandoned blocks remain: only then do the calls below matter.
  bool active() const { return capturing_.load() || has_abandoned_.load(); }

  void on_allocate(void* block);
  Release on_release(void* block);
  // Ends the capture. If `discard` or blocks allocated in it outlive it, those blocks are
  // abandoned. Throws lumen::Error if no capture is running.
  Ended end(bool discard);

 private:
  std::mutex mutex_;
  std::atomic<bool> capturing_{false};
  std::atomic<bool> has_abandoned_{false};
  std::unordered_set<void*> captured_;   // allocated during the capture, not yet released
  std::vector<void*> retained_;          // allocated before it, released during it
  std::unordered_set<void*> abandoned_;  // allocated by a discarded capture, not yet released
};

}  // namespace lumen
