// A report as a small typed document (sections of paragraphs, tables and side-by-side figures), rendered to
// Markdown and to one self-contained HTML file (figures embedded as data: URIs, CSS inline, no script, no
// network access): docs/report.md.
#pragma once

#include <string>
#include <variant>
#include <vector>

namespace nnspice::report {

/// Plain text with two inline marks, the same in both outputs: `code` and **bold**.
struct Paragraph {
  std::string text;
};

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  ///< cells as text (inline marks allowed); short rows are padded
  std::string caption;                          ///< below the table
};

/// One image: `path` relative to the report's folder (PNG or SVG).
struct Image {
  std::string path;
  std::string caption;
};

/// Images shown side by side (they wrap on a narrow window).
struct Figures {
  std::vector<Image> images;
};

/// Preformatted text (a command line, a config), shown verbatim.
struct Code {
  std::string text;
};

using Block = std::variant<Paragraph, Table, Figures, Code>;

struct Section {
  std::string heading;
  int level = 2;  ///< 2 = a section, 3 = a subsection
  std::vector<Block> blocks;
};

struct Document {
  std::string title;
  std::vector<Section> sections;
};

/// GitHub-flavoured Markdown; image links relative to the report's folder.
std::string to_markdown(const Document& doc);

/// One HTML page; every image read from `base_dir`/path and embedded. An image that cannot be read is shown
/// as a visible "figure missing: PATH" note, never as a broken link.
std::string to_html(const Document& doc, const std::string& base_dir);

/// RFC 4648 base64 (for data: URIs).
std::string base64(const std::string& bytes);

}  // namespace nnspice::report
