// The run's report, three ways: the plain text the CLI prints at the end, one self-contained HTML page (uPlot
// inlined, the report embedded as JSON, no network), and the JSON itself. Every string that came from the run
// (device ids, broker URL, verdict details, what was observed) is treated as hostile: escaped for HTML, and
// stripped of control characters for the terminal.

import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { faultTimeline, usesProxy } from "./scenario";
import type { Counterexample, Report, Verdict } from "./types";

/** How many counterexamples each failing verdict shows; the JSON report has them all. */
const TEXT_COUNTEREXAMPLES = 5;
const HTML_COUNTEREXAMPLES = 20;
/** How many of the report's first errors the text lists. */
const TEXT_ERRORS = 5;

const EXTENSIONS = [".json", ".html"];

// ---------------------------------------------------------------------------------------------- shared

/** A count with thousands separators, the same on every machine. */
function count(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "-";
}

/** Milliseconds with as many decimals as their size deserves. */
function ms(value: number | null | undefined): string {
  if (typeof value !== "number" || !Number.isFinite(value)) return "-";
  const magnitude = Math.abs(value);
  return value.toFixed(magnitude < 10 ? 2 : magnitude < 100 ? 1 : 0);
}

function seconds(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(1)} s` : "-";
}

function counterexampleLine(example: Counterexample): string {
  const where = example.message >= 0 ? `device ${example.device}, message ${example.message}` : `device ${example.device}`;
  return `${where}: expected ${example.expected}, observed ${example.observed}`;
}

interface Outcome {
  pass: boolean;
  failed: Verdict[];
  /** "PASS" or "FAIL (n of m verdicts failed)". */
  summary: string;
}

function outcome(report: Report): Outcome {
  const failed = report.verdicts.filter((verdict) => !verdict.pass);
  const pass = report.pass && failed.length === 0;
  return { pass, failed, summary: pass ? "PASS" : `FAIL (${failed.length} of ${report.verdicts.length} verdicts failed)` };
}

/** The password as a report may show it: never the value itself, even if the caller forgot to mask it. */
function maskedPassword(password: string | null): string | null {
  return password === null ? null : "***";
}

function masked(report: Report): Report {
  if (report.config.password === null || report.config.password === "***") return report;
  return { ...report, config: { ...report.config, password: "***" } };
}

const COUNT_ROWS: [keyof Report["counts"], string][] = [
  ["devices", "devices"],
  ["connected", "connected"],
  ["published", "published"],
  ["received", "received"],
  ["duplicates", "duplicates"],
  ["reconnects", "reconnects"],
  ["errors", "errors"],
];

/** The QoS of the devices' messages: the mixed scenario spreads 0, 1 and 2 over the fleet (scenario.ts planDevice). */
function qosText(config: Report["config"]): string {
  return config.scenario === "mixed" ? "QoS 0, 1 and 2 (a third of the devices each)" : `QoS ${config.qos}`;
}

/** What the run injected between devices and broker, and when (seconds since the run's start); null when nothing. */
function injectedFaults(config: Report["config"]): string | null {
  // The timeline depends on the timing options only, not on the brokers.
  const run = { ...config, brokers: [] };
  const faults: string[] = [];
  if (usesProxy(run)) faults.push(`fault proxy: ${config.latencyMs} ms latency + up to ${config.jitterMs} ms jitter each way`);
  if (config.scenario === "faults") {
    const timeline = faultTimeline(run);
    // An external broker restarts only by --broker-restart-cmd (simulator/run.ts).
    const restarts = config.brokers.length === 0 || config.brokerRestartCommand !== null;
    faults.push("connection resets and half-open links in the first seconds of traffic",
      `a partition from ${seconds(timeline.partitionAt)} to ${seconds(timeline.healAt)}`,
      restarts ? `a broker restart at ${seconds(timeline.restartAt)} (down ${seconds(timeline.downMs / 1000)})` : "no broker restart (no --broker-restart-cmd)");
  }
  return faults.length === 0 ? null : faults.join("; ");
}

/** A stall of the simulator's own event loop from which on the report warns that its timings may be its own. */
export const STALL_WARNING_MS = 500;

/** The warning a run gets when the simulator itself stalled (loop-delay.ts), with what to change; null when it did not. */
export function stallWarning(report: Report): string | null {
  const loop = report.loopDelayMs ?? null;
  if (loop === null || loop.max < STALL_WARNING_MS) return null;
  return `the simulator itself stalled for up to ${seconds(loop.max / 1000)} (the event loop of a device process): the times it ` +
    "measured (latency, when wills and keep-alive drops arrived) may be late by as much, a timing verdict's failure may be " +
    "its own. Give it idle cores: fewer --devices or a lower --rate per core, nothing else busy on the machine.";
}

/** Memory per device and connection rate: what a run at scale is measured by. */
export function scaleFigures(report: Report): [string, string][] {
  const { memory, connects, counts } = report;
  const devices = Math.max(1, counts.devices);
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  const span = (connects.lastConnectedAt - connects.firstAttemptAt) / 1000;
  const figures: [string, string][] = [
    ["memory", `${kib(memory.rssBytes / devices)} per device (RSS of ${count(memory.processes)} process${memory.processes === 1 ? "" : "es"}: ` +
      `${count(memory.rssBytes / 1048576)} MiB; ${kib((memory.rssBytes - memory.baselineBytes) / devices)} per device above their start)` +
      (memory.pssBytes === null ? "" : `; ${kib(memory.pssBytes / devices)} per device counting the code the processes share once (PSS)`)],
    ["connects", connects.count === 0 ? "no device connected"
      : span > 0 ? `${count(connects.count / span)} per second (${count(connects.count)} devices in ${seconds(span)})`
      : `${count(connects.count)} device${connects.count === 1 ? "" : "s"} connected`],
  ];
  const loop = report.loopDelayMs ?? null;
  if (loop !== null) {
    figures.push(["stalls", `the simulator's event loop ran up to ${ms(loop.max)} ms late (p99 ${ms(loop.p99)} ms; the worst device process)`]);
  }
  if (report.config.shard.count > 1) {
    figures.push(["shard", `${report.config.shard.index} of ${report.config.shard.count}: devices ${report.slices.map((slice) => `${slice.first}-${slice.end - 1}`).join(", ")}`]);
  }
  return figures;
}

// ------------------------------------------------------------------------------------------------ text

/** Control characters (newlines, escape sequences) in run data would break the table or drive the terminal. */
function clean(value: unknown): string {
  return String(value).replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/**
 * What the CLI prints at the end of a run. `color` adds ANSI colours (use it only on a TTY). `file` is where
 * the report is written (null: nowhere): the text points there for what it leaves out.
 */
export function renderText(report: Report, color: boolean, file: string | null = report.config.report): string {
  const paint = (code: string, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const result = (pass: boolean, width = 0) => paint(pass ? "1;32" : "1;31", (pass ? "PASS" : "FAIL").padEnd(width));
  const config = report.config;
  const { pass, summary } = outcome(report);
  const faults = injectedFaults(config);
  const lines: string[] = [];

  lines.push(paint("1", `starling ${clean(report.starling)}: ${clean(config.scenario)} scenario, ${count(config.devices)} devices, seed ${clean(config.seed)}`));
  const meta: [string, string][] = [
    ["broker", clean(report.brokerUrl)],
    ["started", `${clean(report.startedAt)}, ran ${seconds(report.seconds)}`],
    ["traffic", `MQTT ${config.protocol === 5 ? "5.0" : "3.1.1"}, ${clean(qosText(config))}, ${clean(config.rate)} msg/s per device, ${count(config.payload)} B payload, ${clean(config.duration)} s after a ${clean(config.ramp)} s ramp`],
    ...(faults === null ? [] : [["faults", clean(faults)] as [string, string]]),
    ...scaleFigures(report).map(([label, value]): [string, string] => [label, clean(value)]),
  ];
  for (const [label, value] of meta) lines.push(`  ${label.padEnd(8)} ${value}`);
  lines.push("");

  const names = report.verdicts.map((verdict) => clean(verdict.name));
  const nameWidth = Math.max("verdict".length, ...names.map((name) => name.length));
  lines.push(paint("1", `${"verdict".padEnd(nameWidth)}  result  detail`));
  lines.push(`${"-".repeat(nameWidth)}  ------  ${"-".repeat(40)}`);
  report.verdicts.forEach((verdict, index) => {
    lines.push(`${names[index].padEnd(nameWidth)}  ${result(verdict.pass, 6)}  ${clean(verdict.detail)}`);
    if (verdict.pass) return;
    for (const example of verdict.counterexamples.slice(0, TEXT_COUNTEREXAMPLES)) {
      lines.push(`    ${clean(counterexampleLine(example))}`);
    }
    const more = verdict.counterexamples.length - TEXT_COUNTEREXAMPLES;
    if (more > 0) {
      lines.push(`    ... and ${count(more)} more counterexample${more === 1 ? "" : "s"} ` +
        (file === null ? "(write --report FILE.json to keep them all)" : `(all are in ${clean(file)})`));
    }
  });
  if (report.verdicts.length === 0) lines.push("(no verdicts)");
  lines.push("");

  lines.push(paint("1", "counts"));
  const counts = COUNT_ROWS.map(([key, label]) => [label, count(report.counts[key])]);
  const countWidth = Math.max(...counts.map(([, value]) => value.length));
  for (const [label, value] of counts) lines.push(`  ${label.padEnd(10)} ${value.padStart(countWidth)}`);
  lines.push("");

  if (report.firstErrors.length > 0) {
    const listed = report.firstErrors.slice(0, TEXT_ERRORS);
    const kept = report.firstErrors.length;
    const rest = kept === listed.length ? ""
      : file === null ? `; write --report FILE.json to keep the first ${count(kept)}` : `; the first ${count(kept)} are in ${clean(file)}`;
    lines.push(paint("1", `first errors (${count(listed.length)} of ${count(report.counts.errors)} listed${rest})`));
    for (const error of listed) lines.push(`  ${clean(error)}`);
    lines.push("");
  }

  const latency = report.latencyMs;
  if (latency.count > 0) {
    const cells = [["p50", latency.p50], ["p99", latency.p99], ["p99.9", latency.p999], ["max", latency.max]] as const;
    lines.push(paint("1", `latency (ms, over ${count(latency.count)} messages)`));
    lines.push(`  ${cells.map(([label]) => label.padStart(8)).join("")}`);
    lines.push(`  ${cells.map(([, value]) => ms(value).padStart(8)).join("")}`);
  } else {
    lines.push(paint("1", "latency (ms)"), "  no messages measured");
  }
  lines.push("");

  const stall = stallWarning(report);
  if (stall !== null) lines.push(paint("1;33", `warning: ${clean(stall)}`), "");

  const last = `verdict: ${summary}`;
  // The line a CI log is searched for: always the very last.
  lines.push(paint(pass ? "1;32" : "1;31", last));
  return lines.join("\n") + "\n";
}

// ------------------------------------------------------------------------------------------------ HTML

function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const REPORT_DATA_OPEN = '<script type="application/json" id="report-data">';

/** The report an HTML page of renderHtml holds (its JSON text), or null when the page holds none. */
export function reportDataOfHtml(html: string): string | null {
  const start = html.indexOf(REPORT_DATA_OPEN);
  if (start < 0) return null;
  const end = html.indexOf("</script>", start);
  return end < 0 ? null : html.slice(start + REPORT_DATA_OPEN.length, end);
}

/** JSON that can sit inside a <script> element: nothing in it can close the element or open a comment. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

let uplotFiles: { js: string; css: string } | null = null;

/** uPlot's browser build and stylesheet, read from node_modules once, to be inlined. */
function uplot(): { js: string; css: string } {
  if (uplotFiles === null) {
    const require = createRequire(import.meta.url);
    const js = fs.readFileSync(require.resolve("uplot/dist/uPlot.iife.min.js"), "utf8");
    const css = fs.readFileSync(require.resolve("uplot/dist/uPlot.min.css"), "utf8");
    uplotFiles = {
      js: js.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--"),
      css: css.replace(/<\/(style)/gi, "<\\/$1"),
    };
  }
  return uplotFiles;
}

const STYLE = `
:root { --pass: #1a7f37; --fail: #cf222e; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1120px; margin: 0 auto; padding: 0 24px 48px; }
header.banner { color: #fff; padding: 18px 24px; }
header.banner.pass { background: var(--pass); }
header.banner.fail { background: var(--fail); }
header.banner .inner { max-width: 1072px; margin: 0 auto; }
header.banner h1 { margin: 0; font-size: 26px; letter-spacing: 0.02em; }
header.banner p { margin: 4px 0 0; opacity: 0.95; }
header.banner p.warning { margin-top: 8px; font-weight: 600; }
dl.run { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 4px 16px; margin: 20px 0 8px; }
dl.run dt { color: var(--muted); }
dl.run dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; overflow-wrap: anywhere; }
h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: baseline; }
th { background: var(--soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.verdicts td.name { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; white-space: nowrap; }
table.verdicts td.detail { overflow-wrap: anywhere; }
.badge { display: inline-block; min-width: 44px; text-align: center; padding: 1px 8px; border-radius: 10px; color: #fff; font-weight: 700; font-size: 12px; }
.badge.pass { background: var(--pass); }
.badge.fail { background: var(--fail); }
tr.examples td { background: #fff5f5; padding: 4px 10px 8px 28px; }
tr.examples ol { margin: 0; padding-left: 18px; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
tr.examples li { margin: 2px 0; overflow-wrap: anywhere; }
tr.examples .more { color: var(--muted); margin: 4px 0 0; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
table.compact { width: auto; min-width: 280px; }
.chart { margin: 8px 0 20px; min-height: 260px; }
.chart h3 { font-size: 14px; margin: 0 0 4px; font-weight: 600; }
.chart .note { color: var(--muted); font-size: 12px; margin: 0 0 6px; }
.chart .failed { color: var(--fail); }
footer { color: var(--muted); font-size: 12px; margin-top: 32px; }
`;

// The page's own script: draws the three charts from the embedded report. Plain ES2017, no template literals.
const CHART_SCRIPT = `
(function () {
  "use strict";
  var report = JSON.parse(document.getElementById("report-data").textContent);
  var expected = 3, drawn = 0, charts = [];
  function done() {
    drawn++;
    if (drawn === expected) document.body.dataset.chartsRendered = String(drawn);
  }
  function widthOf(el) { return Math.max(320, Math.floor(el.getBoundingClientRect().width)); }
  function make(id, options, data) {
    var el = document.getElementById(id);
    var target = el.querySelector(".plot");
    var first = true;
    options.width = widthOf(target);
    options.height = options.height || 240;
    options.hooks = options.hooks || {};
    options.hooks.draw = (options.hooks.draw || []).concat([function () { if (first) { first = false; done(); } }]);
    try {
      charts.push({ el: target, plot: new uPlot(options, data, target) });
    } catch (error) {
      var message = document.createElement("p");
      message.className = "failed";
      message.textContent = "chart failed: " + (error && error.message ? error.message : String(error));
      target.appendChild(message);
      document.body.dataset.chartsFailed = String((Number(document.body.dataset.chartsFailed) || 0) + 1);
    }
  }
  var axisFont = "12px system-ui, sans-serif";
  // Tick steps for things that are counted: never 0.25 of a device or an error.
  var WHOLE = [];
  for (var m = 1; m <= 1e9; m *= 10) WHOLE.push(m, 2 * m, 5 * m);
  function axis(label, extra) {
    var a = { label: label, font: axisFont, labelFont: "600 12px system-ui, sans-serif", stroke: "#59636e",
      grid: { stroke: "#e6e9ec", width: 1 }, ticks: { stroke: "#d1d9e0", width: 1 } };
    for (var k in extra) a[k] = extra[k];
    return a;
  }
  var samples = report.samples || [];
  var t = samples.map(function (s) { return s.t; });

  // 1. Connected devices, with the fleet size as the ceiling.
  var connected = samples.map(function (s) { return s.connected; });
  var fleet = report.config && report.config.devices || 0;
  make("chart-connected", {
    scales: { x: { time: false }, y: { range: function (u, min, max) { return [0, Math.max(fleet, max, 1) * 1.05]; } } },
    axes: [axis("seconds since start"), axis("devices", { size: 60, incrs: WHOLE })],
    series: [
      { label: "t (s)" },
      { label: "connected", stroke: "#0969da", width: 2, fill: "rgba(9, 105, 218, 0.12)", points: { show: false } }
    ],
    hooks: { draw: [function (u) {
      if (!fleet) return;
      var ctx = u.ctx, y = Math.round(u.valToPos(fleet, "y", true));
      ctx.save();
      ctx.strokeStyle = "#8c959f"; ctx.setLineDash([6, 4]); ctx.lineWidth = devicePixelRatio;
      ctx.beginPath(); ctx.moveTo(u.bbox.left, y); ctx.lineTo(u.bbox.left + u.bbox.width, y); ctx.stroke();
      ctx.setLineDash([]); ctx.fillStyle = "#59636e"; ctx.font = (11 * devicePixelRatio) + "px system-ui, sans-serif";
      ctx.textAlign = "right"; ctx.textBaseline = "bottom";
      ctx.fillText("fleet: " + fleet.toLocaleString("en-US"), u.bbox.left + u.bbox.width - 4 * devicePixelRatio, y - 2 * devicePixelRatio);
      ctx.restore();
    }] }
  }, [t, connected]);

  // 2. Throughput, with errors on their own axis.
  make("chart-throughput", {
    scales: { x: { time: false }, y: { range: function (u, min, max) { return [0, Math.max(max, 1) * 1.1]; } },
      errors: { range: function (u, min, max) { return [0, Math.max(max, 1) * 1.1]; } } },
    axes: [axis("seconds since start"), axis("messages / s", { size: 70, incrs: WHOLE }),
      axis("errors", { scale: "errors", side: 1, size: 50, grid: { show: false }, stroke: "#cf222e", incrs: WHOLE })],
    series: [
      { label: "t (s)" },
      { label: "messages/s", stroke: "#8250df", width: 2, fill: "rgba(130, 80, 223, 0.10)", points: { show: false } },
      { label: "errors", scale: "errors", stroke: "#cf222e", width: 2, points: { show: false } }
    ]
  }, [t, samples.map(function (s) { return s.messagesPerSecond; }), samples.map(function (s) { return s.errors; })]);

  // 3. Latency distribution: one bar per histogram bucket; log x when the buckets span decades.
  var latency = report.latencyMs || { buckets: [] };
  var buckets = (latency.buckets || []).slice().sort(function (a, b) { return a[0] - b[0]; });
  var positive = buckets.length > 0 && buckets.every(function (b) { return b[0] > 0; });
  var spread = positive ? buckets[buckets.length - 1][0] / buckets[0][0] : 1;
  var logX = positive && spread >= 20;
  var marks = [["p50", latency.p50], ["p99", latency.p99], ["p99.9", latency.p999], ["max", latency.max]]
    .filter(function (m) { return typeof m[1] === "number" && isFinite(m[1]) && (!logX || m[1] > 0); });
  // On a linear axis the outer bars would be cut in half at the edges: pad by half the narrowest gap.
  var gap = Infinity;
  for (var i = 1; i < buckets.length; i++) gap = Math.min(gap, buckets[i][0] - buckets[i - 1][0]);
  function linearRange(u, min, max) {
    if (min == null || max == null) return [0, 1];
    var pad = isFinite(gap) && gap > 0 ? gap / 2 : Math.max(Math.abs(min) * 0.1, 0.5);
    return [min - pad, max + pad];
  }
  document.getElementById("latency-scale").textContent = logX ? "logarithmic latency axis" : "linear latency axis";
  make("chart-latency", {
    scales: { x: logX ? { time: false, distr: 3, log: 10 } : { time: false, range: linearRange },
      y: { range: function (u, min, max) { return [0, Math.max(max, 1) * 1.15]; } } },
    axes: [axis("latency (ms)"), axis("messages", { size: 70, incrs: WHOLE })],
    series: [
      { label: "latency (ms)" },
      { label: "messages", stroke: "#bf8700", fill: "rgba(212, 167, 44, 0.55)", width: 1,
        paths: uPlot.paths.bars({ size: [0.9, 40, 1], align: 0 }), points: { show: false } }
    ],
    hooks: { draw: [function (u) {
      var ctx = u.ctx, px = devicePixelRatio;
      ctx.save();
      ctx.font = (11 * px) + "px system-ui, sans-serif"; ctx.textAlign = "left"; ctx.textBaseline = "top";
      marks.forEach(function (m, i) {
        var x = Math.round(u.valToPos(m[1], "x", true));
        if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
        ctx.strokeStyle = "#cf222e"; ctx.setLineDash([4, 3]); ctx.lineWidth = px;
        ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
        ctx.fillStyle = "#cf222e";
        var right = x + 3 * px + ctx.measureText(m[0]).width > u.bbox.left + u.bbox.width;
        ctx.textAlign = right ? "right" : "left";
        ctx.fillText(m[0], right ? x - 3 * px : x + 3 * px, u.bbox.top + (2 + 13 * i) * px);
      });
      ctx.restore();
    }] }
  }, [buckets.map(function (b) { return b[0]; }), buckets.map(function (b) { return b[1]; })]);

  var pending = 0;
  window.addEventListener("resize", function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () {
      charts.forEach(function (c) { c.plot.setSize({ width: widthOf(c.el), height: c.plot.height }); });
    });
  });
})();
`;

function htmlCounterexamples(verdict: Verdict): string {
  const shown = verdict.counterexamples.slice(0, HTML_COUNTEREXAMPLES);
  const more = verdict.counterexamples.length - shown.length;
  const items = shown.map((example) => `<li>${escapeHtml(counterexampleLine(example))}</li>`).join("\n");
  const rest = more > 0
    ? `<p class="more">… and ${escapeHtml(count(more))} more counterexample${more === 1 ? "" : "s"} (all are in the JSON embedded in this page, script#report-data)</p>`
    : "";
  const body = shown.length > 0 ? `<ol>\n${items}\n</ol>` : `<p class="more">no counterexample recorded</p>`;
  return `<tr class="examples"><td colspan="3">${body}${rest}</td></tr>`;
}

/** The report as one HTML page that needs nothing else: uPlot and the data are inlined. */
export function renderHtml(report: Report): string {
  const config = report.config;
  const { pass, summary } = outcome(report);
  const status = pass ? "pass" : "fail";
  const files = uplot();
  const faults = injectedFaults(config);
  const stall = stallWarning(report);

  const run: [string, string][] = [
    ["broker", report.brokerUrl],
    ["scenario", config.scenario],
    ["devices", count(config.devices)],
    ["seed", String(config.seed)],
    ["started", report.startedAt],
    ["ran for", seconds(report.seconds)],
    ["protocol", `MQTT ${config.protocol === 5 ? "5.0" : "3.1.1"}, keep-alive ${config.keepAlive} s`],
    ["traffic", `${qosText(config)}, ${config.rate} msg/s per device, ${count(config.payload)} B payload`],
    ["timing", `${config.ramp} s ramp, then ${config.duration} s`],
    ...(faults === null ? [] : [["faults", faults] as [string, string]]),
    ["client id / topic", `${config.clientId}  ${config.topic}`],
    ["user", config.username === null ? "none" : `${config.username} (password ${maskedPassword(config.password) ?? "none"})`],
    ...scaleFigures(report),
    ["starling", report.starling],
  ];
  const runHtml = run.map(([label, value]) => `<dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd>`).join("\n");

  const verdictRows = report.verdicts.map((verdict) => {
    const row = `<tr class="${verdict.pass ? "pass" : "fail"}"><td class="name">${escapeHtml(verdict.name)}</td>`
      + `<td><span class="badge ${verdict.pass ? "pass" : "fail"}">${verdict.pass ? "PASS" : "FAIL"}</span></td>`
      + `<td class="detail">${escapeHtml(verdict.detail)}</td></tr>`;
    return verdict.pass ? row : row + "\n" + htmlCounterexamples(verdict);
  }).join("\n");

  const countRows = COUNT_ROWS.map(([key, label]) => `<tr><td>${escapeHtml(label)}</td><td class="num">${escapeHtml(count(report.counts[key]))}</td></tr>`).join("\n");
  const latency = report.latencyMs;
  const latencyRows = ([["p50", latency.p50], ["p99", latency.p99], ["p99.9", latency.p999], ["max", latency.max]] as const)
    .map(([label, value]) => `<tr><td>${label}</td><td class="num">${escapeHtml(ms(value))}</td></tr>`).join("\n");

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>starling ${escapeHtml(pass ? "PASS" : "FAIL")}: ${escapeHtml(config.scenario)}, ${escapeHtml(count(config.devices))} devices</title>
<style>${files.css}</style>
<style>${STYLE}</style>
</head>
<body>
<header class="banner ${status}"><div class="inner">
<h1>${escapeHtml(summary)}</h1>
<p>starling fleet run: ${escapeHtml(config.scenario)} scenario, ${escapeHtml(count(config.devices))} devices against ${escapeHtml(report.brokerUrl)}</p>
${stall === null ? "" : `<p class="warning">warning: ${escapeHtml(stall)}</p>`}
</div></header>
<main>
<dl class="run">
${runHtml}
</dl>

<h2>Verdicts</h2>
<table class="verdicts">
<thead><tr><th>verdict</th><th>result</th><th>detail</th></tr></thead>
<tbody>
${verdictRows || `<tr><td colspan="3">no verdicts</td></tr>`}
</tbody>
</table>

<div class="grid">
<section>
<h2>Counts</h2>
<table class="compact counts"><tbody>
${countRows}
</tbody></table>
</section>
<section>
<h2>Latency (ms, over ${escapeHtml(count(latency.count))} messages)</h2>
<table class="compact latency"><tbody>
${latencyRows}
</tbody></table>
</section>
</div>

<h2>Over time</h2>
<div class="chart" id="chart-connected"><h3>Connected devices</h3><p class="note">one sample a second; the dashed line is the fleet size</p><div class="plot"></div></div>
<div class="chart" id="chart-throughput"><h3>Throughput</h3><p class="note">messages observed per second (left axis) and errors (right axis)</p><div class="plot"></div></div>
<h2>Latency distribution</h2>
<div class="chart" id="chart-latency"><h3>End-to-end latency</h3><p class="note"><span id="latency-scale"></span>; dashed lines mark p50, p99, p99.9 and max</p><div class="plot"></div></div>

<footer>Generated by starling ${escapeHtml(report.starling)}. The full report, with every counterexample, is embedded in this page as JSON (script#report-data).</footer>
</main>
${REPORT_DATA_OPEN}${scriptJson(masked(report))}</script>
<script>${files.js}</script>
<script>${CHART_SCRIPT}</script>
</body>
</html>
`;
}

// ------------------------------------------------------------------------------------------------ file

/**
 * What keeps `file` from taking a report, or null: checked before a run or a merge (so that its end is not
 * lost to a typo), and again when the report is written.
 */
export function reportFileProblem(file: string): string | null {
  if (!EXTENSIONS.includes(path.extname(file).toLowerCase())) {
    return `the file name must end in ${EXTENSIONS.join(" or ")} (JSON or a self-contained HTML page)`;
  }
  const folder = path.dirname(path.resolve(file));
  if (!fs.statSync(folder, { throwIfNoEntry: false })?.isDirectory()) {
    return `the folder ${folder} does not exist: create it, or name a file in a folder that does`;
  }
  try {
    fs.accessSync(folder, fs.constants.W_OK);
  } catch {
    return `the folder ${folder} is not writable: name a file in a folder you can write to`;
  }
  return null;
}

/** Writes the report as JSON (`.json`) or as the HTML page (`.html`), chosen by the file's extension. */
export function writeReport(report: Report, file: string): void {
  const problem = reportFileProblem(file);
  if (problem !== null) throw new Error(`cannot write a report to "${file}": ${problem}`);
  const text = path.extname(file).toLowerCase() === ".json" ? JSON.stringify(masked(report), null, 2) + "\n" : renderHtml(report);
  fs.writeFileSync(file, text);
}
