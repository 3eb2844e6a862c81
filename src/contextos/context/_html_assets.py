"""The inline stylesheet and script of the ``--html`` page (no network, no external assets)."""

from __future__ import annotations

__all__ = ["KIND_COLORS", "SCRIPT", "STYLE"]

KIND_COLORS = {
    "system": "#6366f1",
    "rules": "#8b5cf6",
    "tools": "#0ea5e9",
    "tool": "#38bdf8",
    "reminder": "#f59e0b",
    "memories": "#ec4899",
    "code": "#10b981",
    "history": "#64748b",
    "task": "#ef4444",
}

STYLE = """
:root { --ink:#0f172a; --muted:#64748b; --line:#e2e8f0; --bg:#f8fafc; --card:#fff;
  --inc:#16a34a; --tru:#d97706; --exc:#94a3b8; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
  color:var(--ink); background:var(--bg); }
main { max-width:1180px; margin:0 auto; padding:28px 32px 48px; }
h1 { font-size:20px; margin:0 0 4px; letter-spacing:-.01em; }
h1 span { color:var(--muted); font-weight:500; }
h2 { font-size:13px; text-transform:uppercase; letter-spacing:.06em; color:var(--muted);
  margin:28px 0 10px; }
.task { color:#334155; margin:0 0 14px; white-space:pre-wrap; max-height:4.5em; overflow:hidden; }
.chips { display:flex; flex-wrap:wrap; gap:8px; }
.chip { background:var(--card); border:1px solid var(--line); border-radius:999px;
  padding:3px 11px; font-size:12.5px; }
.chip b { font-variant-numeric:tabular-nums; }
.card { background:var(--card); border:1px solid var(--line); border-radius:12px;
  padding:16px 18px; box-shadow:0 1px 2px rgba(15,23,42,.04); }
.barlabel { display:flex; justify-content:space-between; font-size:12px; color:var(--muted);
  margin:0 0 6px; }
.bar { display:flex; height:46px; border-radius:8px; overflow:hidden; background:#eef2f7;
  border:1px solid var(--line); }
.bar.out { height:22px; background:transparent; border-style:dashed; }
.seg { height:100%; min-width:2px; border-right:1px solid rgba(255,255,255,.7); cursor:pointer;
  color:#fff; font-size:11px; overflow:hidden; white-space:nowrap; padding:0 6px;
  text-overflow:ellipsis; line-height:44px; }
.bar.out .seg { line-height:20px; color:var(--ink); }
.seg:hover { filter:brightness(1.08); outline:2px solid var(--ink); outline-offset:-2px; }
.seg.truncated { background-image:repeating-linear-gradient(135deg,rgba(255,255,255,.28) 0 5px,
  transparent 5px 10px); }
.bar.out .seg { background-image:repeating-linear-gradient(45deg,rgba(255,255,255,.78) 0 4px,
  rgba(255,255,255,.55) 4px 8px); border-right:1px solid #fff; }
.free { flex:1; color:var(--muted); font-size:11px; padding:0 8px; line-height:44px;
  white-space:nowrap; overflow:hidden; text-overflow:ellipsis; }
.legend { display:flex; flex-wrap:wrap; gap:14px; margin-top:12px; font-size:12.5px; }
.dot { display:inline-block; width:10px; height:10px; border-radius:3px; margin-right:5px;
  vertical-align:-1px; }
.toolbar { display:flex; gap:6px; align-items:center; margin:0 0 10px; flex-wrap:wrap; }
.toolbar button { border:1px solid var(--line); background:var(--card); border-radius:8px;
  padding:5px 12px; font:inherit; font-size:12.5px; cursor:pointer; }
.toolbar button.on { background:var(--ink); color:#fff; border-color:var(--ink); }
.toolbar input { margin-left:auto; border:1px solid var(--line); border-radius:8px;
  padding:5px 10px; font:inherit; font-size:12.5px; width:220px; }
details.layer { background:var(--card); border:1px solid var(--line); border-radius:10px;
  margin:0 0 6px; }
details.layer[open] { box-shadow:0 2px 8px rgba(15,23,42,.06); }
details.layer > summary { list-style:none; display:grid; cursor:pointer; align-items:center;
  grid-template-columns:14px 86px minmax(180px,1.2fr) 150px minmax(200px,2fr);
  gap:12px; padding:9px 14px; }
details.layer > summary::-webkit-details-marker { display:none; }
.id { font-family:ui-monospace,SFMono-Regular,Menlo,monospace; font-size:12.5px;
  overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
.pill { font-size:11px; font-weight:600; border-radius:999px; padding:2px 8px; text-align:center; }
.pill.included { background:#dcfce7; color:#166534; }
.pill.truncated { background:#fef3c7; color:#92400e; }
.pill.excluded { background:#f1f5f9; color:#475569; }
.tok { font-variant-numeric:tabular-nums; font-size:12px; color:#334155; }
.mini { height:5px; background:#eef2f7; border-radius:3px; margin-top:4px; overflow:hidden; }
.mini i { display:block; height:100%; border-radius:3px; }
.reason { color:#475569; font-size:12.5px; }
.body { border-top:1px solid var(--line); padding:12px 16px 14px; }
.facts { display:flex; gap:16px; flex-wrap:wrap; font-size:12px; color:var(--muted);
  margin-bottom:8px; }
pre { margin:6px 0 0; background:#0f172a; color:#e2e8f0; border-radius:8px; padding:12px 14px;
  font:12px/1.5 ui-monospace,SFMono-Regular,Menlo,monospace; white-space:pre-wrap;
  word-break:break-word; max-height:420px; overflow:auto; }
.msg { margin:0 0 8px; }
.msg summary { cursor:pointer; font-weight:600; }
.notes li { color:#92400e; }
footer { margin-top:28px; color:var(--muted); font-size:12px; }
"""

SCRIPT = """
(function () {
  var layers = Array.prototype.slice.call(document.querySelectorAll('details.layer'));
  var buttons = document.querySelectorAll('.toolbar button[data-filter]');
  var query = document.getElementById('q');
  var current = 'all';
  function apply() {
    var q = (query.value || '').toLowerCase();
    var shown = 0;
    layers.forEach(function (el) {
      var ok = (current === 'all' || el.dataset.status === current) &&
               (!q || el.dataset.id.toLowerCase().indexOf(q) >= 0);
      el.style.display = ok ? '' : 'none';
      if (ok) { shown += 1; }
    });
    document.getElementById('shown').textContent = shown + ' of ' + layers.length + ' layers';
  }
  buttons.forEach(function (b) {
    b.addEventListener('click', function () {
      current = b.dataset.filter;
      buttons.forEach(function (o) { o.classList.toggle('on', o === b); });
      apply();
    });
  });
  query.addEventListener('input', apply);
  document.querySelectorAll('.seg[data-target]').forEach(function (seg) {
    seg.addEventListener('click', function () {
      var el = document.getElementById(seg.dataset.target);
      if (el) { el.open = true; el.style.display = ''; el.scrollIntoView({block: 'center'}); }
    });
  });
  document.getElementById('expand').addEventListener('click', function () {
    var open = !layers.every(function (el) { return el.open; });
    layers.forEach(function (el) { el.open = open; });
  });
  apply();
  document.body.dataset.ready = '1';
})();
"""
