// Listing the images named in a file instead of reading a folder (data.filenames): one path
// relative to the root a line, as lightly's LightlyDataset(input_dir, filenames=[...]) takes them.
// The folder itself is never read, so a list of a few files of a huge folder is quick (lightly
// issue #526).
//
//   cat/1.jpg          names in class subfolders: one class per distinct first folder (sorted,
//   dog/x/2.png        labels from 0), as lightly labels them (it lists the class folders, and
//                      torchvision refuses a class folder with no listed file)
//   a.jpg  b.png       names at the top only: a flat set, label 0
//
// Blank lines and whitespace around a name are ignored; "./" and "x/../" parts are resolved. A
// name that is absolute or leads out of the root, names no existing file, repeats an earlier line,
// lacks an image extension, or sits at the top while others are in class folders is an error
// naming its line (every such line is named, up to ten). The order is the folder listing's (class,
// then torchvision's order within it), whatever the order of the lines.
#pragma once

#include <string>

#include "engine/data/image_folder.h"

namespace lumen::data {

FolderListing list_image_files(const std::string& root, const std::string& list_path);

}  // namespace lumen::data
