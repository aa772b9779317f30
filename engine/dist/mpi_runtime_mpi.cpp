// MPI's start and end, and the watchdog (see engine/dist/mpi_runtime.h).
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "engine/dist/mpi_internal.h"
#include "engine/dist/mpi_runtime.h"

namespace lumen::mpi {

namespace {

using Clock = std::chrono::steady_clock;

// Heartbeats between every rank and rank 0 on a communicator of their own. A message is two
// int64: a kind and its argument.
class Watchdog {
 public:
  enum Kind : int64_t { kBeat = 0, kLeaving = 1, kVerdict = 2 };  // verdict: arg = silent rank

  Watchdog(MPI_Comm world, double silence_limit) : limit_(silence_limit) {
    MPI_Comm_dup(world, &comm_);
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    heard_ms_ = std::vector<std::atomic<int64_t>>(size_t(size_));
    if (rank_ == 0) {
      for (int r = 1; r < size_; ++r) peers_.push_back(r);
    } else {
      peers_.push_back(0);
    }
    thread_ = std::thread([this] { run(); });
  }
  ~Watchdog() { stop(false); }

  void set_limit(double seconds) { limit_.store(seconds); }

  std::string silent(double seconds) const {
    const int64_t now = ms_since_start();
    std::string out;
    for (int peer : peers_) {
      const int64_t last = heard_ms_[size_t(peer)].load();
      if (last < 0 || double(now - last) / 1000 <= seconds) continue;  // left, or heard lately
      out += (out.empty() ? "" : "; ") + silence(peer, double(now - last) / 1000);
    }
    return out;
  }

  // Ends the thread; `leaving`: first tell the peers this rank leaves (they stop expecting it).
  void stop(bool leaving) {
    if (!thread_.joinable()) return;
    leaving_.store(leaving);
    stop_.store(true);
    thread_.join();
  }

 private:
  struct Outbox {
    int64_t message[2] = {0, 0};
    MPI_Request request = MPI_REQUEST_NULL;
  };

  // Sends unless the previous message to `peer` is still on its way (heartbeats do not pile up).
  bool send(int peer, Kind kind, int64_t arg) {
    Outbox& o = outbox_[size_t(peer)];
    if (o.request != MPI_REQUEST_NULL) {
      int done = 0;
      if (MPI_Test(&o.request, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) return false;
      if (!done) return false;
    }
    o.message[0] = kind;
    o.message[1] = arg;
    return MPI_Isend(o.message, 2, MPI_INT64_T, peer, kTag, comm_, &o.request) == MPI_SUCCESS;
  }

  [[noreturn]] void end_job(const std::string& message, int silent) {
    std::fprintf(stderr, "\nlumen: error: rank %d of %d: %s; ending the job\n", rank_, size_,
                 message.c_str());
    std::fflush(stderr);
    if (rank_ == 0) {
      // The others say so too before MPI_Abort ends them.
      for (int r : peers_) {
        if (r != silent) send(r, kVerdict, silent);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    MPI_Abort(MPI_COMM_WORLD, 1);
    std::_Exit(1);
  }

  std::string silence(int peer, double seconds) const {
    return "no word from " + rank_name(peer) + " for " + std::to_string(int64_t(seconds)) +
           " s: it died, or it is stopped or hung";
  }

  int64_t ms_since_start() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_).count();
  }

  void run() {
    std::vector<Clock::time_point> heard(size_t(size_), start_);
    std::vector<bool> left(size_t(size_), false);
    outbox_.resize(size_t(size_));
    int64_t inbox[2] = {0, 0};
    MPI_Request receive = MPI_REQUEST_NULL;
    MPI_Irecv(inbox, 2, MPI_INT64_T, MPI_ANY_SOURCE, kTag, comm_, &receive);
    Clock::time_point next_beat = start_;
    while (!stop_.load()) {
      const Clock::time_point now = Clock::now();
      for (;;) {
        int done = 0;
        MPI_Status status;
        if (MPI_Test(&receive, &done, &status) != MPI_SUCCESS || !done) break;
        const int from = status.MPI_SOURCE;
        heard[size_t(from)] = now;
        heard_ms_[size_t(from)].store(inbox[0] == kLeaving ? -1 : ms_since_start());
        if (inbox[0] == kLeaving) left[size_t(from)] = true;
        if (inbox[0] == kVerdict) {
          end_job("rank 0 reports " + silence(int(inbox[1]), limit_.load()), -1);
        }
        MPI_Irecv(inbox, 2, MPI_INT64_T, MPI_ANY_SOURCE, kTag, comm_, &receive);
      }
      if (now >= next_beat) {
        for (int peer : peers_) send(peer, kBeat, 0);
        next_beat = now + std::chrono::milliseconds(500);
      }
      for (int peer : peers_) {
        const double quiet = std::chrono::duration<double>(now - heard[size_t(peer)]).count();
        if (!left[size_t(peer)] && quiet > limit_.load()) end_job(silence(peer, quiet), peer);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (leaving_.load()) {
      for (int peer : peers_) {
        Outbox& o = outbox_[size_t(peer)];
        if (o.request != MPI_REQUEST_NULL) MPI_Wait(&o.request, MPI_STATUS_IGNORE);
        send(peer, kLeaving, 0);
      }
    }
    MPI_Cancel(&receive);
    MPI_Wait(&receive, MPI_STATUS_IGNORE);
    for (Outbox& o : outbox_) {
      if (o.request != MPI_REQUEST_NULL) MPI_Request_free(&o.request);
    }
  }

  static constexpr int kTag = 7;
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  std::vector<int> peers_;
  std::vector<Outbox> outbox_;
  const Clock::time_point start_ = Clock::now();
  std::vector<std::atomic<int64_t>> heard_ms_;  // when each peer was last heard (-1: it left)
  std::atomic<double> limit_;
  std::atomic<bool> stop_{false}, leaving_{false};
  std::thread thread_;
};

struct Runtime {
  std::vector<std::string> names;  // "pid 4242 on node-a" by rank
  std::unique_ptr<Watchdog> watchdog;
};
Runtime& runtime() {
  static Runtime r;
  return r;
}

void check_start(int code, const char* call) {
  if (code != MPI_SUCCESS) LUMEN_FAIL("starting MPI: ", call, " failed: ", error_text(code));
}

}  // namespace

bool built_with_mpi() { return true; }

std::string library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  if (MPI_Get_library_version(text, &length) != MPI_SUCCESS) return "MPI";
  std::string version(text, size_t(length));
  const size_t end = version.find_first_of(",\n");
  return end == std::string::npos ? version : version.substr(0, end);
}

World start() {
  int provided = 0;
  check_start(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided), "MPI_Init_thread");
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  LUMEN_CHECK(provided >= MPI_THREAD_MULTIPLE, "this MPI library offers thread level ", provided,
              ", below MPI_THREAD_MULTIPLE, which the watchdog of data-parallel runs needs; use an "
              "MPI built with thread support (Open MPI and MPICH are)");
  World w;
  check_start(MPI_Comm_rank(MPI_COMM_WORLD, &w.rank), "MPI_Comm_rank");
  check_start(MPI_Comm_size(MPI_COMM_WORLD, &w.size), "MPI_Comm_size");
  MPI_Comm node = MPI_COMM_NULL;
  check_start(
      MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, w.rank, MPI_INFO_NULL, &node),
      "MPI_Comm_split_type");
  MPI_Comm_rank(node, &w.local_rank);
  MPI_Comm_size(node, &w.local_size);
  MPI_Comm_free(&node);

  // Who every rank is, for messages: pid and host.
  char host[MPI_MAX_PROCESSOR_NAME] = {};
  int length = 0;
  MPI_Get_processor_name(host, &length);
  char mine[96] = {};
  std::snprintf(mine, sizeof(mine), "pid %d on %s", int(getpid()), host);
  std::vector<char> all(sizeof(mine) * size_t(w.size));
  check_start(MPI_Allgather(mine, sizeof(mine), MPI_CHAR, all.data(), sizeof(mine), MPI_CHAR,
                            MPI_COMM_WORLD),
              "MPI_Allgather");
  Runtime& r = runtime();
  r.names.clear();
  for (int i = 0; i < w.size; ++i) r.names.emplace_back(all.data() + sizeof(mine) * size_t(i));

  w.comm = make_communicator(MPI_COMM_WORLD);
  if (w.size > 1) r.watchdog = std::make_unique<Watchdog>(MPI_COMM_WORLD, 60.0);
  return w;
}

void finish() {
  Runtime& r = runtime();
  if (r.watchdog) r.watchdog->stop(true);
  r.watchdog.reset();
  MPI_Finalize();
}

void abandon() {
  Runtime& r = runtime();
  if (r.watchdog) r.watchdog->stop(false);
  r.watchdog.reset();
}

void abort_job(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

void set_silence_limit(double seconds) {
  LUMEN_CHECK(seconds > 0, "the silence limit of the watchdog must be positive, got ", seconds);
  if (runtime().watchdog) runtime().watchdog->set_limit(seconds);
}

std::string silent_ranks(double seconds) {
  const Runtime& r = runtime();
  return r.watchdog ? r.watchdog->silent(seconds) : "";
}

std::string rank_name(int rank) {
  const Runtime& r = runtime();
  std::string name = "rank " + std::to_string(rank);
  if (rank >= 0 && size_t(rank) < r.names.size()) name += " (" + r.names[size_t(rank)] + ")";
  return name;
}

}  // namespace lumen::mpi
