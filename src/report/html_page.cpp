// The frame and the pieces of every report page: number formats, links, cards, inline charts, and
// the page's CSS (kStyle).
#include <cctype>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <sstream>

#include "html_internal.hpp"
#include "nnlab/report/plot.hpp"

namespace fs = std::filesystem;

namespace nnlab::report {

namespace {

std::string now_text() {
  const std::time_t t = std::time(nullptr);
  char b[40];
  std::tm local{};
  localtime_r(&t, &local);  // ensemble members write their pages from several threads
  std::strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S", &local);
  return b;
}

const char* kStyle = R"CSS(
:root { --fg: #1d232b; --muted: #5b6573; --line: #dde2e8; --bg: #f5f7fa; --card: #fff; --accent: #1f6fb4;
        --good: #2a8a3e; --warn: #b7791f; --bad: #c0392b; --hl: #fff3bf; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Roboto, sans-serif;
       color: var(--fg); background: var(--bg); -webkit-text-size-adjust: 100%; }
header.top { background: #1d2b3a; color: #fff; padding: 1.2rem 1rem 1rem; }
header.top .wrap { max-width: 1180px; margin: 0 auto; }
header.top h1 { margin: 0 0 .2rem; font-size: 1.6rem; line-height: 1.25; word-break: break-word; }
header.top p { margin: 0; color: #c8d3df; }
nav.toc { max-width: 1180px; margin: .6rem auto 0; padding: 0 1rem; display: flex; flex-wrap: wrap; gap: .3rem .9rem;
          font-size: .92rem; }
nav.toc a { color: var(--accent); text-decoration: none; }
main { max-width: 1180px; margin: 0 auto; padding: .5rem 1rem 2rem; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1rem 1.1rem;
          margin: 1rem 0; }
h2 { font-size: 1.25rem; margin: 0 0 .7rem; }
h3 { font-size: 1.02rem; margin: 1rem 0 .5rem; }
a { color: var(--accent); }
.badge { display: inline-block; padding: .1rem .55rem; border-radius: 99px; font-size: .85rem; font-weight: 600;
         background: #e3e8ee; color: var(--fg); vertical-align: middle; }
.badge.running { background: #ffe8a3; } .badge.finished { background: #cdeccf; }
.badge.good { background: #cdeccf; } .badge.over { background: #f8d3cd; } .badge.under { background: #ffe8a3; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(165px, 1fr)); gap: .7rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: .7rem .9rem; }
.card .v { font-size: 1.35rem; font-weight: 650; line-height: 1.2; }
.card .k { color: var(--muted); font-size: .85rem; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 460px), 1fr)); gap: 1rem; }
figure { margin: 0; }
figcaption { color: var(--muted); font-size: .88rem; margin-top: .3rem; }
svg.chart { width: 100%; height: auto; display: block; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; font-size: .93rem; }
table.kv td, table.kv th { padding: .3rem .8rem .3rem 0; border-bottom: 1px solid var(--line); text-align: left;
                           vertical-align: top; }
table.kv th { color: var(--muted); font-weight: 500; white-space: nowrap; }
table.grid th, table.grid td { padding: .35rem .6rem; border-bottom: 1px solid var(--line); text-align: right;
                               white-space: nowrap; }
table.grid th:first-child, table.grid td:first-child { text-align: left; }
table.grid thead th { border-bottom: 2px solid var(--line); font-weight: 600; }
tr.differs td, tr.differs th { background: var(--hl); }
td.num { font-variant-numeric: tabular-nums; }
pre { background: #f0f3f6; border-radius: 8px; padding: .7rem; overflow-x: auto; font-size: .8rem; line-height: 1.35; }
details summary { cursor: pointer; color: var(--accent); margin: .6rem 0; }
.verdict { font-size: 1.1rem; font-weight: 650; }
ul.cures li { margin: .2rem 0; }
table.confusion { border-collapse: separate; border-spacing: 2px; font-size: .8rem; }
table.confusion td { width: 2.6rem; height: 2.1rem; text-align: center; border-radius: 3px;
                     font-variant-numeric: tabular-nums; }
table.confusion th { font-weight: 500; color: var(--muted); padding: 0 .3rem; }
table.confusion thead th { writing-mode: vertical-rl; transform: rotate(180deg); text-align: left; height: 6.5rem;
                           white-space: nowrap; padding: .2rem 0; }
table.confusion tbody th { text-align: right; white-space: nowrap; }
.axis-note { color: var(--muted); font-size: .85rem; margin: .3rem 0; }
.bar { background: #e6ebf0; border-radius: 4px; height: .8rem; min-width: 3rem; width: 100%; position: relative; }
.bar span { position: absolute; left: 0; top: 0; bottom: 0; background: var(--accent); border-radius: 4px; }
.pairs { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 330px), 1fr)); gap: .9rem; }
.pair { border: 1px solid var(--line); border-radius: 8px; padding: .6rem .7rem; }
.pair h3 { margin: 0 0 .4rem; font-size: .95rem; }
.thumbs { display: flex; flex-wrap: wrap; gap: .4rem; }
.thumbs figure { text-align: center; font-size: .75rem; color: var(--muted); width: 66px; }
.thumbs img { width: 66px; height: 66px; image-rendering: pixelated; border-radius: 4px; background: #000;
              display: block; }
footer { color: var(--muted); font-size: .85rem; max-width: 1180px; margin: 0 auto; padding: 0 1rem 2rem; }
footer a { margin-right: .7rem; }
@media (max-width: 600px) {
  body { font-size: 15px; }
  header.top h1 { font-size: 1.3rem; }
  section { padding: .8rem .75rem; border-radius: 8px; }
  main { padding: .3rem .5rem 1.5rem; }
  .card .v { font-size: 1.2rem; }
  .cards { grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); }
  table.confusion td { width: 1.9rem; height: 1.7rem; font-size: .7rem; }
}
)CSS";

}  // namespace

std::string esc(const std::string& s) { return plot::xml_escape(s); }

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string pct(double v) { return fmt("%.2f%%", 100.0 * v); }

std::string grouped(int64_t n) {  // 535818 -> "535,818"
  std::string s = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string seconds(double s) {
  if (s < 60) return fmt("%.1f s", s);
  const long m = static_cast<long>(s / 60);
  return std::to_string(m) + " min " + fmt("%.0f s", s - 60.0 * static_cast<double>(m));
}

// A link from the folder `from` to the file `to`, with forward slashes, each part percent-escaped where needed.
std::string relative_link(const fs::path& to, const fs::path& from) {
  std::error_code ec;
  fs::path rel = fs::relative(fs::absolute(to), fs::absolute(from), ec);
  if (ec || rel.empty()) rel = fs::absolute(to);
  std::string out;
  for (char c : rel.generic_string()) {
    if (std::isalnum(static_cast<unsigned char>(c)) || std::string("/-_.~").find(c) != std::string::npos)
      out += c;
    else
      out += fmt("%%%02X", static_cast<unsigned char>(c));
  }
  return out;
}

// An inline SVG chart: ids made unique in the page (every chart numbers its clip paths from 0), and
// the size left to CSS so the chart shrinks on a phone.
std::string inline_svg(const plot::Figure& fig, const std::string& label, int& next_id) {
  std::string svg = plot::render_svg(fig);
  // Appended rather than "c" + ...: GCC 12 warns falsely (-Wrestrict) about that insert at -O3.
  std::string prefix = "c";
  prefix += std::to_string(next_id++) + "-";
  for (const std::string from : {"id=\"clip", "url(#clip"}) {
    const std::string to = from.substr(0, from.size() - 4) + prefix + "clip";
    for (size_t pos = 0; (pos = svg.find(from, pos)) != std::string::npos; pos += to.size()) svg.replace(pos, from.size(), to);
  }
  const std::string open = "<svg ";
  if (const auto p = svg.find(open); p != std::string::npos)
    svg.replace(p, open.size(), "<svg class=\"chart\" role=\"img\" aria-label=\"" + esc(label) + "\" ");
  return svg;
}

// The page's frame: head (title, viewport, style, refresh), a header, a table of contents.
std::string page_start(const std::string& title, const std::string& subtitle, const std::string& badge_html,
                       const std::vector<std::pair<std::string, std::string>>& toc, int refresh_seconds) {
  std::ostringstream os;
  os << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
     << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  if (refresh_seconds > 0) os << "<meta http-equiv=\"refresh\" content=\"" << refresh_seconds << "\">\n";
  os << "<meta name=\"generator\" content=\"nnlab\">\n<title>" << esc(title) << "</title>\n<style>" << kStyle
     << "</style>\n</head>\n<body>\n<header class=\"top\"><div class=\"wrap\"><h1>" << esc(title) << " " << badge_html
     << "</h1><p>" << subtitle << "</p></div></header>\n";
  if (!toc.empty()) {
    os << "<nav class=\"toc\">";
    for (const auto& [id, name] : toc) os << "<a href=\"#" << id << "\">" << esc(name) << "</a>";
    os << "</nav>\n";
  }
  os << "<main>\n";
  return os.str();
}

std::string page_end(const std::string& footer_html) {
  return "</main>\n<footer>" + footer_html + "<p>Written by nnlab on " + esc(now_text()) +
         ". One self-contained file: no scripts, nothing loaded from the network.</p></footer>\n</body>\n</html>\n";
}

std::string card(const std::string& value, const std::string& key) {
  return "<div class=\"card\"><div class=\"v\">" + esc(value) + "</div><div class=\"k\">" + esc(key) + "</div></div>";
}

std::string verdict_class(const std::string& v) {
  if (v == "good fit") return "good";
  if (v == "overfitting") return "over";
  if (v == "underfitting") return "under";
  return "";
}

}  // namespace nnlab::report
