#include "html.h"

#include <nlohmann/json.hpp>

namespace lt::exporter {

namespace {

using nlohmann::json;

std::string esc(const std::string& s)
{
    std::string o;
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

// JSON inside <script>: "</" must not appear, or the page's parser ends the script.
std::string script_safe(const std::string& j)
{
    std::string o;
    o.reserve(j.size());
    for (size_t i = 0; i < j.size(); i++) {
        if (j[i] == '<' && i + 1 < j.size() && j[i + 1] == '/') { o += "<\\/"; i++; }
        else o += j[i];
    }
    return o;
}

json data_json(const TimelineData& d)
{
    json j;
    j["pid"] = d.pid;
    j["program"] = d.program;
    j["duration"] = d.duration;
    j["hang_at"] = d.hang_at;
    json th = json::array();
    for (const ThreadState& t : d.threads)
        th.push_back({t.tid, t.name, t.status == ThreadStatus::blocked ? "blocked"
                                     : t.status == ThreadStatus::exited ? "exited" : "running"});
    j["threads"] = th;
    json locks = json::array();
    for (const LockInfo& L : d.locks) locks.push_back(L.label);
    j["locks"] = locks;
    // [thread, begin, end, wait, open, lock, mode, outcome, depth]
    json sl = json::array();
    for (const Slice& s : d.slices)
        sl.push_back({s.thread, s.begin, s.end, s.wait ? 1 : 0, s.open ? 1 : 0, s.lock, int(s.mode),
                      s.wait ? outcome_name(s.outcome) : "", s.depth});
    j["slices"] = sl;
    json fl = json::array();
    for (const Flow& f : d.flows) fl.push_back({f.from_thread, f.from_time, f.to_thread, f.to_time, f.lock});
    j["flows"] = fl;
    json fs = json::array();
    for (const FindingInfo& f : d.findings) {
        json ev = json::array();
        for (const EvidenceMark& e : f.evidence)
            ev.push_back({e.thread == UINT32_MAX ? json(nullptr) : json(e.thread), e.time, e.event, e.where, e.tid});
        fs.push_back({{"kind", f.kind}, {"severity", f.severity}, {"locks", f.locks}, {"threads", f.threads},
                      {"evidence", ev}});
    }
    j["findings"] = fs;
    json mk = json::array();
    for (const MarkInfo& m : d.marks) mk.push_back({m.time, m.kind});
    j["marks"] = mk;
    return j;
}

const char* kStyle = R"CSS(
body{margin:0;font:13px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d232b;background:#f6f7f9}
header{padding:10px 16px;background:#1f2933;color:#eef2f6}
header h1{font-size:17px;margin:0 0 2px}
header .meta{color:#b7c3cf;font-size:12px}
.controls{margin-top:8px}
.controls button{font:inherit;margin-right:6px;padding:3px 10px;border:1px solid #52606d;background:#323f4b;color:#eef2f6;border-radius:4px;cursor:pointer}
.controls button:hover{background:#3e4c59}
.controls #range{margin-left:8px;color:#b7c3cf}
main{display:flex;align-items:flex-start}
#chart{flex:1;min-width:0;padding:8px;overflow:hidden}
#svg{background:#fff;border:1px solid #d3d9e0;display:block;user-select:none;cursor:grab}
aside{width:380px;flex:none;padding:8px 14px;border-left:1px solid #d3d9e0;background:#fff;min-height:100vh;box-sizing:border-box}
aside h2{font-size:15px;margin:6px 0 8px}
ol.findings{list-style:none;padding:0;margin:0}
li.finding{border:1px solid #d3d9e0;border-left:5px solid #9aa5b1;border-radius:4px;padding:6px 8px;margin-bottom:8px;cursor:pointer}
li.finding:hover{background:#f0f4f8}
li.finding.sev-error{border-left-color:#d64545}
li.finding.sev-warning{border-left-color:#e8a33d}
li.finding.sev-info{border-left-color:#4098d7}
li.finding.selected{outline:2px solid #2680c2;background:#eef6fc}
li.finding .kind{font-weight:600}
li.finding .sev{font-size:11px;text-transform:uppercase;color:#616e7c;margin-left:6px}
li.finding .summary{margin-top:3px;white-space:pre-wrap}
li.finding ul.evidence{display:none;margin:6px 0 0;padding-left:16px;font-size:12px;color:#3e4c59}
li.finding.selected ul.evidence{display:block}
.axis text{font-size:10px;fill:#616e7c}
.axis line{stroke:#e4e7eb}
.track text.label{font-size:12px;fill:#1d232b}
.track text.status{font-size:10px;fill:#d64545}
.track rect.lane{fill:#fafbfc}
.track:nth-child(even) rect.lane{fill:#f2f4f7}
rect.hold{stroke:none}
rect.wait{fill-opacity:.35;stroke:#d64545;stroke-width:.8}
rect.open{stroke-dasharray:3 2;stroke:#a61b1b;stroke-width:1.2}
line.flow{stroke:#2680c2;stroke-width:1;marker-end:url(#arrow);opacity:.75}
line.mark{stroke:#7b61c4;stroke-width:1.5;stroke-dasharray:5 3}
line.hang{stroke:#d64545;stroke-width:1.5}
text.marklabel{font-size:10px;fill:#7b61c4}
text.hanglabel{font-size:10px;fill:#d64545}
svg.dim rect.hold,svg.dim rect.wait,svg.dim line.flow{opacity:.18}
svg.dim rect.hl{opacity:1;stroke:#102a43;stroke-width:1.5}
circle.evidence{fill:#ffd43b;stroke:#102a43;stroke-width:1.5}
line.evidence{stroke:#f0b429;stroke-width:1}
.legend{margin-top:8px;font-size:12px;color:#3e4c59}
.legend span.sw{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px;vertical-align:-1px;border-radius:2px}
)CSS";

const char* kScript = R"JS(
(function(){
'use strict';
const D = JSON.parse(document.getElementById('lt-data').textContent);
const svgNS = 'http://www.w3.org/2000/svg';
const svg = document.getElementById('svg');
const LABEL = 190, ROW = 30, TOP = 34, RIGHT = 12;
let view = [0, Math.max(D.duration, 1)];
let selected = -1;
function el(name, attrs, parent, text){
  const e = document.createElementNS(svgNS, name);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function color(i){ return 'hsl(' + ((i * 137.508) % 360).toFixed(1) + ',58%,52%)'; }
function fmt(ns){
  const a = Math.abs(ns);
  if (a >= 1e9) return (ns / 1e9).toFixed(a >= 1e10 ? 1 : 3) + ' s';
  if (a >= 1e6) return (ns / 1e6).toFixed(a >= 1e7 ? 1 : 2) + ' ms';
  if (a >= 1e3) return (ns / 1e3).toFixed(1) + ' µs';
  return Math.round(ns) + ' ns';
}
function width(){ return Math.max(600, document.getElementById('chart').clientWidth - 18); }
function draw(){
  const W = width(), H = TOP + D.threads.length * ROW + 10;
  const plot = W - LABEL - RIGHT;
  const t0 = view[0], t1 = view[1], span = Math.max(t1 - t0, 1);
  const x = t => LABEL + (t - t0) / span * plot;
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  svg.setAttribute('width', W); svg.setAttribute('height', H);
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  svg.setAttribute('class', selected >= 0 ? 'dim' : '');
  const defs = el('defs', {}, svg);
  const mk = el('marker', {id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse'}, defs);
  el('path', {d: 'M0,0 L10,5 L0,10 z', fill: '#2680c2'}, mk);
  const clip = el('clipPath', {id: 'plot'}, defs);
  el('rect', {x: LABEL, y: 0, width: plot, height: H}, clip);
  // Axis: about one tick per 110 px, on a 1/2/5 grid.
  const axis = el('g', {class: 'axis'}, svg);
  const raw = span / Math.max(1, plot / 110), p = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = raw / p < 2 ? 2 * p : raw / p < 5 ? 5 * p : 10 * p;
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    el('line', {x1: x(t), x2: x(t), y1: TOP - 6, y2: H}, axis);
    el('text', {x: x(t) + 2, y: TOP - 10}, axis, fmt(t));
  }
  const tracks = el('g', {class: 'tracks'}, svg);
  const hl = new Set(selected >= 0 ? D.findings[selected].locks : []);
  const rows = D.threads.map((th, i) => {
    const g = el('g', {class: 'track', 'data-tid': th[0]}, tracks);
    el('rect', {class: 'lane', x: 0, y: TOP + i * ROW, width: W, height: ROW}, g);
    el('text', {class: 'label', x: 6, y: TOP + i * ROW + 14}, g, (th[1] || 'thread') + ' ' + th[0]);
    if (th[2] !== 'running') el('text', {class: 'status', x: 6, y: TOP + i * ROW + 26}, g, th[2]);
    return el('g', {'clip-path': 'url(#plot)'}, g);
  });
  // Slices: holds in the upper half of a row, waits in the lower half.  Slices
  // narrower than a pixel that start where the previous one ended are skipped,
  // so the page stays fast on traces with millions of events.
  const last = new Map();
  for (const s of D.slices) {
    const [th, b, e, wait, open, lock, mode, outcome, depth] = s;
    if (e < t0 || b > t1) continue;
    const x1 = Math.max(x(b), LABEL - 2), x2 = Math.min(x(e), W);
    const key = th * 2 + wait, prev = last.get(key);
    if (x2 - x1 < 1 && prev !== undefined && x1 < prev + 1 && !hl.has(lock)) continue;
    last.set(key, x2);
    const y = TOP + th * ROW + (wait ? 16 : 4 + 2 * depth), h = wait ? 10 : 10 - 3 * depth;
    let cls = wait ? 'wait' : 'hold';
    if (open) cls += ' open';
    if (hl.has(lock)) cls += ' hl';
    const r = el('rect', {class: cls, x: x1, y: y, width: Math.max(1, x2 - x1), height: h, fill: color(lock)}, rows[th]);
    el('title', {}, r, (wait ? 'waits for ' : (mode === 1 ? 'holds (read) ' : 'holds ')) + D.locks[lock] + '\n' +
       fmt(b) + ' → ' + (open ? 'end of trace (' + (wait ? 'still waiting' : 'still held') + ')' : fmt(e)) +
       ' (' + fmt(e - b) + ')' + (wait ? '\noutcome: ' + outcome : ''));
  }
  const flows = el('g', {class: 'flows', 'clip-path': 'url(#plot)'}, svg);
  let nflows = 0;
  for (const f of D.flows) {
    if (f[3] < t0 || f[1] > t1 || nflows > 4000) continue;
    nflows++;
    const l = el('line', {class: 'flow', x1: x(f[1]), y1: TOP + f[0] * ROW + 15, x2: x(f[3]), y2: TOP + f[2] * ROW + 21}, flows);
    el('title', {}, l, 'wake on ' + D.locks[f[4]] + ' at ' + fmt(f[1]));
  }
  const marks = el('g', {class: 'marks'}, svg);
  for (const m of D.marks) {
    if (m[0] < t0 || m[0] > t1) continue;
    el('line', {class: 'mark', x1: x(m[0]), x2: x(m[0]), y1: TOP - 4, y2: H}, marks);
    const r = x(m[0]) > W - 120;
    el('text', {class: 'marklabel', x: x(m[0]) + (r ? -3 : 3), y: H - 3, 'text-anchor': r ? 'end' : 'start'}, marks, m[1]);
  }
  if (D.hang_at > 0 && D.hang_at >= t0 && D.hang_at <= t1) {
    el('line', {class: 'hang', x1: x(D.hang_at), x2: x(D.hang_at), y1: TOP - 4, y2: H}, marks);
    const right = x(D.hang_at) > W - 120;
    el('text', {class: 'hanglabel', x: x(D.hang_at) + (right ? -3 : 3), y: TOP - 20, 'text-anchor': right ? 'end' : 'start'},
       marks, 'last thread blocked');
  }
  if (selected >= 0) {
    const ev = el('g', {class: 'evidence'}, svg);
    for (const e of D.findings[selected].evidence) {
      if (e[0] === null || e[1] < t0 || e[1] > t1) continue;
      el('line', {class: 'evidence', x1: x(e[1]), x2: x(e[1]), y1: TOP, y2: H}, ev);
      const c = el('circle', {class: 'evidence', cx: x(e[1]), cy: TOP + e[0] * ROW + 15, r: 5}, ev);
      el('title', {}, c, e[2] + (e[3] ? '\nat ' + e[3] : ''));
    }
  }
  document.getElementById('range').textContent = fmt(t0) + ' – ' + fmt(t1) + '  (' + fmt(t1 - t0) + ' shown)';
}
function setView(a, b){
  const D0 = Math.max(D.duration, 1);
  let w = Math.max(b - a, 1000);
  a = Math.max(0, Math.min(a, D0 - Math.min(w, D0))); b = Math.min(D0, a + w);
  view = [a, b]; draw();
}
function hangZoom(seconds){
  const end = Math.max(D.duration, 1), at = D.hang_at > 0 ? D.hang_at : end;
  setView(Math.max(0, at - seconds * 1e9), end);
}
function zoom(f, centre){
  const c = centre === undefined ? (view[0] + view[1]) / 2 : centre;
  setView(c - (c - view[0]) * f, c + (view[1] - c) * f);
}
function pan(frac){ const w = view[1] - view[0]; setView(view[0] + w * frac, view[1] + w * frac); }
function select(i){
  selected = selected === i ? -1 : i;
  document.querySelectorAll('li.finding').forEach(li => li.classList.toggle('selected', +li.dataset.index === selected));
  if (selected >= 0) {
    const ts = D.findings[selected].evidence.map(e => e[1]);
    if (ts.length && (Math.min(...ts) < view[0] || Math.max(...ts) > view[1])) {
      const pad = Math.max((Math.max(...ts) - Math.min(...ts)) * 0.1, 1e6);
      view = [Math.max(0, Math.min(...ts) - pad), Math.min(Math.max(D.duration, 1), Math.max(...ts) + pad)];
    }
  }
  draw();
}
document.querySelectorAll('li.finding').forEach(li => li.addEventListener('click', () => select(+li.dataset.index)));
document.getElementById('all').onclick = () => setView(0, Math.max(D.duration, 1));
document.getElementById('hang1').onclick = () => hangZoom(1);
document.getElementById('hang5').onclick = () => hangZoom(5);
document.getElementById('zin').onclick = () => zoom(0.5);
document.getElementById('zout').onclick = () => zoom(2);
document.addEventListener('keydown', e => {
  if (e.key === 'a') setView(0, Math.max(D.duration, 1));
  else if (e.key === 'h') hangZoom(1);
  else if (e.key === 'H') hangZoom(5);
  else if (e.key === '+' || e.key === '=') zoom(0.5);
  else if (e.key === '-') zoom(2);
  else if (e.key === 'ArrowLeft') pan(-0.2);
  else if (e.key === 'ArrowRight') pan(0.2);
  else if (e.key === 'Escape' && selected >= 0) select(selected);
});
svg.addEventListener('wheel', e => {
  e.preventDefault();
  const r = svg.getBoundingClientRect(), plot = width() - LABEL - RIGHT;
  const t = view[0] + (e.clientX - r.left - LABEL) / plot * (view[1] - view[0]);
  zoom(e.deltaY > 0 ? 1.25 : 0.8, t);
}, {passive: false});
let drag = null;
svg.addEventListener('mousedown', e => { drag = {x: e.clientX, v: view.slice()}; });
window.addEventListener('mouseup', () => { drag = null; });
window.addEventListener('mousemove', e => {
  if (!drag) return;
  const plot = width() - LABEL - RIGHT, dt = (drag.x - e.clientX) / plot * (drag.v[1] - drag.v[0]);
  setView(drag.v[0] + dt, drag.v[1] + dt);
});
window.addEventListener('resize', draw);
// Open on the hang when there is one: that is what the reader came for.
if (D.hang_at > 0 && D.duration - D.hang_at < D.duration * 0.5 && D.duration > 6e9) hangZoom(5); else draw();
// Links into the page: #finding=N selects a finding, #hang zooms to the hang.
const h = location.hash;
if (/hang/.test(h)) hangZoom(1);
const fm = /finding=(\d+)/.exec(h);
if (fm && +fm[1] < D.findings.length) select(+fm[1]);
})();
)JS";

} // namespace

void write_html(const TimelineData& d, std::ostream& out)
{
    size_t blocked = 0;
    for (const ThreadState& t : d.threads) blocked += t.status == ThreadStatus::blocked;
    char dur[64];
    snprintf(dur, sizeof dur, "%.3f s", double(d.duration) / 1e9);
    out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>locktrace: " << esc(d.program)
        << " (pid " << d.pid << ")</title>\n<style>" << kStyle << "</style></head>\n<body>\n<header><h1>locktrace timeline: "
        << esc(d.program) << "</h1>\n<div class=\"meta\">pid " << d.pid << " · " << dur << " · " << d.threads.size()
        << " threads (" << blocked << " blocked at the end) · " << d.locks.size() << " locks · " << d.findings.size()
        << " findings</div>\n<div class=\"controls\"><button id=\"all\" title=\"key a\">All</button>"
        << "<button id=\"hang1\" title=\"key h\">Last 1 s before the hang</button>"
        << "<button id=\"hang5\" title=\"key H\">Last 5 s before the hang</button>"
        << "<button id=\"zin\" title=\"key +\">Zoom in</button><button id=\"zout\" title=\"key -\">Zoom out</button>"
        << "<span id=\"range\"></span></div></header>\n<main><div id=\"chart\"><svg id=\"svg\" xmlns=\"http://www.w3.org/2000/svg\" "
           "width=\"1200\" height=\"200\"></svg>\n<div class=\"legend\">holds: upper half of a row · waits: lower half, "
           "red outline (dashed: still waiting at the end) · blue arrows: wake → the thread it woke · "
           "click a finding to highlight its evidence";
    for (size_t i = 0; i < d.locks.size() && i < 12; i++) {
        char sw[96];
        snprintf(sw, sizeof sw, "<span class=\"sw\" style=\"background:hsl(%.1f,58%%,52%%)\"></span>",
                 double(i) * 137.508 - 360.0 * int(double(i) * 137.508 / 360.0));
        out << "<br>" << sw << esc(d.locks[i].label);
    }
    out << "</div></div>\n<aside><h2>Findings (" << d.findings.size() << ")</h2>\n<ol class=\"findings\">\n";
    for (size_t i = 0; i < d.findings.size(); i++) {
        const FindingInfo& f = d.findings[i];
        out << "<li class=\"finding sev-" << esc(f.severity) << "\" data-index=\"" << i << "\"><span class=\"kind\">"
            << esc(f.kind) << "</span><span class=\"sev\">" << esc(f.severity) << "</span><div class=\"summary\">"
            << esc(f.summary) << "</div><ul class=\"evidence\">";
        for (const EvidenceMark& e : f.evidence) {
            char t[48];
            snprintf(t, sizeof t, "+%.6fs", double(e.time) / 1e9);
            out << "<li>" << t << " thread " << e.tid << ": " << esc(e.event);
            if (!e.where.empty()) out << " — " << esc(e.where);
            out << "</li>";
        }
        out << "</ul></li>\n";
    }
    if (d.findings.empty()) out << "<li>No findings.</li>\n";
    out << "</ol></aside></main>\n<script type=\"application/json\" id=\"lt-data\">"
        << script_safe(data_json(d).dump(-1, ' ', false, json::error_handler_t::replace)) << "</script>\n<script>"
        << kScript << "</script>\n</body></html>\n";
}

} // namespace lt::exporter
