// The report document: Markdown and self-contained HTML renderings, escaping, embedded and missing images.
#include <gtest/gtest.h>

#include "../test_support.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/report/document.hpp"

using namespace nnspice;
using namespace nnspice::report;

TEST(ReportDocument, Base64MatchesRfc4648) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foob"), "Zm9vYg==");
  EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64(std::string("\xff\x00\x80", 3)), "/wCA");
}

Document sample(const std::string& image) {
  Document d;
  d.title = "t <1>";
  Section s{"A & B", 2, {}};
  s.blocks.push_back(Paragraph{"plain `code` and **bold** <script>alert(1)</script>"});
  s.blocks.push_back(Table{{"x", "y|z"}, {{"1", "a|b"}, {"2"}}, "caption"});
  s.blocks.push_back(Figures{{{image, "fig one"}}});
  s.blocks.push_back(Code{"line <1>\nline 2"});
  d.sections.push_back(s);
  return d;
}

TEST(ReportDocument, MarkdownTablesEscapePipesAndPadShortRows) {
  const std::string md = to_markdown(sample("img.png"));
  EXPECT_NE(md.find("# t <1>\n"), std::string::npos);
  EXPECT_NE(md.find("| x | y\\|z |\n|---|---|\n| 1 | a\\|b |\n| 2 |  |\n"), std::string::npos) << md;
  EXPECT_NE(md.find("![fig one](img.png)\n*fig one*\n"), std::string::npos) << md;
  EXPECT_NE(md.find("```\nline <1>\nline 2\n```"), std::string::npos);
}

TEST(ReportDocument, HtmlIsSelfContainedAndEscaped) {
  const std::string dir = test::scratch_dir("report", "html");
  const std::string png("\x89PNG\r\n\x1a\nfakebytes", 17);
  write_file_atomic(dir + "/img.png", png);
  const std::string h = to_html(sample("img.png"), dir);
  EXPECT_NE(h.find("<img src=\"data:image/png;base64," + base64(png) + "\""), std::string::npos);
  EXPECT_EQ(h.find("<script>"), std::string::npos) << "text must be escaped";
  EXPECT_NE(h.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(h.find("<code>code</code>"), std::string::npos);
  EXPECT_NE(h.find("<strong>bold</strong>"), std::string::npos);
  EXPECT_NE(h.find("<td>a|b</td>"), std::string::npos);
  EXPECT_NE(h.find("<pre>line &lt;1&gt;\nline 2</pre>"), std::string::npos);
  EXPECT_EQ(h.find("http"), std::string::npos) << "no network reference";
  EXPECT_EQ(h.find("img.png"), std::string::npos) << "no file reference";
}

TEST(ReportDocument, AMissingImageIsAVisibleNoteNotABrokenLink) {
  const std::string dir = test::scratch_dir("report", "missing");
  const std::string h = to_html(sample("nothere.png"), dir);
  EXPECT_NE(h.find("figure missing: nothere.png"), std::string::npos);
  EXPECT_EQ(h.find("<img"), std::string::npos);
}
