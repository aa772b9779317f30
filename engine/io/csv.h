// CSV records as RFC 4180 and Python's csv module (lightly's writer) have them: fields split by
// commas, a field in double quotes may hold commas, quotes (doubled) and newlines; "\r\n" line
// ends are read as "\n".
#pragma once

#include <istream>
#include <string>
#include <vector>

namespace lumen {

// The field as written: quoted when it holds a comma, quote or line break.
std::string csv_field(const std::string& s);

// Reads the next record (which may span lines inside quotes) into fields; false at the end.
bool read_csv_record(std::istream& in, std::vector<std::string>& fields);

// Record boundaries of text from `begin`: the offset where each record starts, then text.size();
// a record's range ends after its line break. Quoted line breaks stay inside their record.
std::vector<size_t> csv_record_offsets(const std::string& text, size_t begin = 0);

// The fields of the record text[begin, end) (its line break, if any, is not part of a field).
void split_csv_record(const std::string& text, size_t begin, size_t end,
                      std::vector<std::string>& fields);

}  // namespace lumen
