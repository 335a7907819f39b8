#include "nnspice/report/document.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "nnspice/common/fs_util.hpp"

namespace nnspice::report {
namespace {

std::string escape_html(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

// Inline marks to HTML: `code` and **bold**; everything else escaped.
std::string inline_html(const std::string& s) {
  std::string o;
  bool code = false, bold = false;
  for (std::size_t k = 0; k < s.size(); ++k) {
    if (s[k] == '`') {
      o += code ? "</code>" : "<code>";
      code = !code;
    } else if (!code && s.compare(k, 2, "**") == 0) {
      o += bold ? "</strong>" : "<strong>";
      bold = !bold;
      ++k;
    } else {
      o += escape_html(std::string(1, s[k]));
    }
  }
  if (code) o += "</code>";
  if (bold) o += "</strong>";
  return o;
}

// A Markdown table cell: '|' escaped, newlines as spaces.
std::string md_cell(std::string s) {
  std::string o;
  for (char c : s) {
    if (c == '|')
      o += "\\|";
    else if (c == '\n')
      o += ' ';
    else
      o += c;
  }
  return o;
}

std::string mime_of(const std::string& path) {
  auto ends = [&](const char* e) {
    const std::string x = e;
    return path.size() >= x.size() && path.compare(path.size() - x.size(), x.size(), x) == 0;
  };
  if (ends(".png")) return "image/png";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".jpg") || ends(".jpeg")) return "image/jpeg";
  return "";
}

const char* kCss = R"(body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1200px;margin:2em auto;padding:0 1.2em;color:#1b1f23;line-height:1.45}
h1{border-bottom:2px solid #d0d7de;padding-bottom:.3em}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0}th,td{border:1px solid #d0d7de;padding:.3em .6em;text-align:right;vertical-align:top}
th{background:#f6f8fa}td:first-child,th:first-child{text-align:left}caption{caption-side:bottom;text-align:left;color:#57606a;font-size:.9em;padding-top:.3em}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9em;background:#f6f8fa}pre{padding:.8em;overflow-x:auto;border-radius:6px}
.figures{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}figure{margin:0;flex:0 1 calc(50% - .5em);min-width:320px}
figure img{width:100%;height:auto;border:1px solid #eaeef2}figcaption{color:#57606a;font-size:.9em}.missing{color:#b35900;border:1px dashed #b35900;padding:1em})";

}  // namespace

std::string base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string o;
  o.reserve((in.size() + 2) / 3 * 4);
  std::size_t k = 0;
  for (; k + 2 < in.size(); k += 3) {
    const unsigned v = (static_cast<unsigned char>(in[k]) << 16) | (static_cast<unsigned char>(in[k + 1]) << 8) | static_cast<unsigned char>(in[k + 2]);
    o += t[(v >> 18) & 63];
    o += t[(v >> 12) & 63];
    o += t[(v >> 6) & 63];
    o += t[v & 63];
  }
  if (k + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[k]) << 16;
    o += t[(v >> 18) & 63];
    o += t[(v >> 12) & 63];
    o += "==";
  } else if (k + 2 == in.size()) {
    const unsigned v = (static_cast<unsigned char>(in[k]) << 16) | (static_cast<unsigned char>(in[k + 1]) << 8);
    o += t[(v >> 18) & 63];
    o += t[(v >> 12) & 63];
    o += t[(v >> 6) & 63];
    o += '=';
  }
  return o;
}

std::string to_markdown(const Document& doc) {
  std::string md = "# " + doc.title + "\n\n";
  for (const auto& s : doc.sections) {
    md += std::string(static_cast<std::size_t>(std::clamp(s.level, 2, 4)), '#') + " " + s.heading + "\n\n";
    for (const auto& b : s.blocks) {
      if (const auto* p = std::get_if<Paragraph>(&b)) {
        md += p->text + "\n\n";
      } else if (const auto* t = std::get_if<Table>(&b)) {
        const std::size_t n = t->header.size();
        md += "|";
        for (const auto& h : t->header) md += fmt::format(" {} |", md_cell(h));
        md += "\n|";
        for (std::size_t k = 0; k < n; ++k) md += "---|";
        md += "\n";
        for (const auto& r : t->rows) {
          md += "|";
          for (std::size_t k = 0; k < n; ++k) md += fmt::format(" {} |", md_cell(k < r.size() ? r[k] : ""));
          md += "\n";
        }
        if (!t->caption.empty()) md += "\n" + t->caption + "\n";
        md += "\n";
      } else if (const auto* f = std::get_if<Figures>(&b)) {
        for (const auto& im : f->images) {
          md += fmt::format("![{}]({})\n", md_cell(im.caption), im.path);
          if (!im.caption.empty()) md += "*" + im.caption + "*\n";
          md += "\n";
        }
      } else if (const auto* c = std::get_if<Code>(&b)) {
        md += "```\n" + c->text + (c->text.empty() || c->text.back() != '\n' ? "\n" : "") + "```\n\n";
      }
    }
  }
  return md;
}

std::string to_html(const Document& doc, const std::string& base_dir) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
                  escape_html(doc.title) + "</title>\n<style>" + kCss + "</style>\n</head>\n<body>\n<h1>" + escape_html(doc.title) + "</h1>\n";
  for (const auto& s : doc.sections) {
    const int lv = std::clamp(s.level, 2, 4);
    h += fmt::format("<h{0}>{1}</h{0}>\n", lv, inline_html(s.heading));
    for (const auto& b : s.blocks) {
      if (const auto* p = std::get_if<Paragraph>(&b)) {
        h += "<p>" + inline_html(p->text) + "</p>\n";
      } else if (const auto* t = std::get_if<Table>(&b)) {
        h += "<table>\n";
        if (!t->caption.empty()) h += "<caption>" + inline_html(t->caption) + "</caption>\n";
        h += "<thead><tr>";
        for (const auto& c : t->header) h += "<th>" + inline_html(c) + "</th>";
        h += "</tr></thead>\n<tbody>\n";
        for (const auto& r : t->rows) {
          h += "<tr>";
          for (std::size_t k = 0; k < t->header.size(); ++k) h += "<td>" + inline_html(k < r.size() ? r[k] : "") + "</td>";
          h += "</tr>\n";
        }
        h += "</tbody>\n</table>\n";
      } else if (const auto* f = std::get_if<Figures>(&b)) {
        h += "<div class=\"figures\">\n";
        for (const auto& im : f->images) {
          h += "<figure>";
          const std::string file = base_dir + "/" + im.path, mime = mime_of(im.path);
          std::string bytes;
          bool ok = !mime.empty() && file_exists(file);
          if (ok) {
            try {
              bytes = read_file(file);
            } catch (const std::exception&) {
              ok = false;
            }
          }
          if (ok && !bytes.empty())
            h += fmt::format("<img src=\"data:{};base64,{}\" alt=\"{}\">", mime, base64(bytes), escape_html(im.caption));
          else
            h += "<div class=\"missing\">figure missing: " + escape_html(im.path) + "</div>";
          if (!im.caption.empty()) h += "<figcaption>" + inline_html(im.caption) + "</figcaption>";
          h += "</figure>\n";
        }
        h += "</div>\n";
      } else if (const auto* c = std::get_if<Code>(&b)) {
        h += "<pre>" + escape_html(c->text) + "</pre>\n";
      }
    }
  }
  h += "</body>\n</html>\n";
  return h;
}

}  // namespace nnspice::report
