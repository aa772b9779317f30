#include "engine/data/file_list.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>
#include <vector>

namespace lumen::data {

namespace {

std::string trimmed(const std::string& line) {
  const char* space = " \t\r\n\v\f";
  const size_t first = line.find_first_not_of(space);
  if (first == std::string::npos) return "";
  return line.substr(first, line.find_last_not_of(space) - first + 1);
}

// The name with "." and empty parts dropped and ".." resolved; false when it is absolute or
// leads out of the root.
bool normalized(const std::string& name, std::string* out) {
  if (name.front() == '/') return false;
  std::vector<std::string> parts;
  std::stringstream in(name);
  for (std::string part; std::getline(in, part, '/');) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) return false;
      parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  out->clear();
  for (const std::string& p : parts) *out += (out->empty() ? "" : "/") + p;
  return !out->empty();
}

struct Listed {
  std::string name;  // normalised, relative to the root
  int line;
};

}  // namespace

FolderListing list_image_files(const std::string& root_in, const std::string& list_path) {
  FolderListing listing;
  listing.root = root_in;
  while (listing.root.size() > 1 && listing.root.back() == '/') listing.root.pop_back();
  struct stat list_stat;
  const bool found = stat(list_path.c_str(), &list_stat) == 0;
  LUMEN_CHECK(found && S_ISREG(list_stat.st_mode),
              "cannot read the list of files data.filenames=", list_path, ": ",
              found ? "not a file" : std::strerror(errno),
              "; give a text file with one image path (relative to input_dir) a line");
  std::ifstream in(list_path);
  LUMEN_CHECK(in, "cannot read the list of files data.filenames=", list_path, ": ",
              std::strerror(errno));
  std::vector<Listed> listed;
  std::vector<std::string> problems;
  size_t more = 0;
  auto problem = [&](int line, const std::string& what) {
    if (problems.size() < 10) {
      problems.push_back(::lumen::detail::concat("line ", line, ": ", what));
    } else {
      ++more;
    }
  };
  std::map<std::string, int> line_of;
  int line_number = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_number;
    const std::string text = trimmed(line);
    if (text.empty()) continue;
    std::string name;
    if (!normalized(text, &name)) {
      problem(line_number, "'" + text + "' is not inside input_dir (give paths relative to it)");
      continue;
    }
    if (!has_image_extension(name)) {
      problem(line_number,
              "'" + text + "' is not an image file name (.jpg .jpeg .png .bmp .ppm .pgm)");
      continue;
    }
    const auto [at, fresh] = line_of.emplace(name, line_number);
    if (!fresh) {
      problem(line_number,
              ::lumen::detail::concat("'", text, "' is listed already on line ", at->second));
      continue;
    }
    struct stat st;
    const std::string path = listing.root + "/" + name;
    if (stat(path.c_str(), &st) != 0) {
      problem(line_number, ::lumen::detail::concat("'", text, "' cannot be found in input_dir (",
                                                   std::strerror(errno), ")"));
      continue;
    }
    if (!S_ISREG(st.st_mode)) {
      problem(line_number, "'" + text + "' is not a file");
      continue;
    }
    listed.push_back({name, line_number});
  }
  LUMEN_CHECK(!in.bad(), "cannot read the list of files data.filenames=", list_path);
  const bool in_classes = std::any_of(listed.begin(), listed.end(), [](const Listed& l) {
    return l.name.find('/') != std::string::npos;
  });
  if (in_classes) {
    for (const Listed& l : listed) {
      if (l.name.find('/') != std::string::npos) continue;
      problem(l.line, "'" + l.name +
                          "' is at the top of input_dir while other listed files are in class "
                          "subfolders (a folder with subfolders holds one class per subfolder, as "
                          "in lightly); list files of one kind only");
    }
  }
  if (!problems.empty()) {
    std::string all;
    for (const std::string& p : problems) all += "\n  " + p;
    if (more) all += ::lumen::detail::concat("\n  ... and ", more, " more");
    LUMEN_FAIL("the list of files data.filenames=", list_path, " does not fit input_dir ",
               listing.root, ":", all);
  }
  LUMEN_CHECK(!listed.empty(), "the list of files data.filenames=", list_path,
              " names no file; give one image path relative to input_dir a line");
  std::map<std::string, int64_t> label_of;  // class folder -> label, in sorted order
  if (in_classes) {
    for (const Listed& l : listed) label_of.emplace(l.name.substr(0, l.name.find('/')), 0);
    for (auto& [name, label] : label_of) {
      label = int64_t(listing.class_names.size());
      listing.class_names.push_back(name);
    }
  }
  std::vector<std::pair<int64_t, std::string>> files;
  for (const Listed& l : listed) {
    files.emplace_back(in_classes ? label_of.at(l.name.substr(0, l.name.find('/'))) : 0, l.name);
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : listing_order(a.second, b.second);
  });
  for (auto& [label, name] : files) {
    listing.labels.push_back(label);
    listing.filenames.push_back(std::move(name));
  }
  return listing;
}

}  // namespace lumen::data
