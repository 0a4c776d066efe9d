// The run report: the text the CLI prints, the JSON file, and the HTML page, which is opened in a real headless
// Chromium to prove its three charts draw, that it fetches nothing, and that hostile strings stay text.

import fs from "node:fs";
import path from "node:path";
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import type { Browser } from "playwright-core";
import { STALL_WARNING_MS, renderHtml, renderText, writeReport } from "../../simulator/report";
import { planFleet } from "../../simulator/scenario";
import type { Counterexample, Report, Sample } from "../../simulator/types";
import { peerAvailable } from "../peers";
import { checkReportPage, launchChromium, temporaryDirectory } from "../report-page";

const HOSTILE_DEVICE = "<img src=x onerror=alert(1)>";
const HOSTILE_OBSERVED = "</script><script>alert(2)</script>";

/** mulberry32, so the made-up runs are the same every time. */
function generator(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A run as the simulator would report it: a ramp, steady traffic, a broker hiccup, an HDR-style histogram. */
function makeReport(options: { seed: number; devices: number; failing: boolean }): Report {
  const random = generator(options.seed);
  const ramp = 10;
  const duration = 50;
  const rate = 2;
  const samples: Sample[] = [];
  let connected = 0;
  let errorsSoFar = 0;
  for (let t = 0; t <= ramp + duration; t++) {
    connected = Math.min(options.devices, Math.round((options.devices * t) / ramp));
    let errors = 0;
    if (options.failing && t >= 30 && t < 34) {
      // The broker restarts at t=30: devices drop and come back over a few seconds.
      connected = Math.round(options.devices * [0.1, 0.45, 0.8, 0.97][t - 30]);
      errors = Math.round(options.devices * [0.9, 0.2, 0.05, 0.01][t - 30]);
    }
    errorsSoFar += errors;
    samples.push({ t, connected, messagesPerSecond: Math.round(connected * rate * (0.97 + random() * 0.06)), errors,
      stalledMs: options.failing && t === 30 ? 2300 : Math.round(random() * 12) });
  }
  // Log-spaced buckets (as an HDR histogram gives them) around a 4 ms median with a long tail.
  const buckets: [number, number][] = [];
  let published = 0;
  for (let ms = 0.25; ms <= 400; ms *= 1.25) {
    const z = (Math.log(ms) - Math.log(4)) / 0.7;
    const n = Math.round(90_000 * Math.exp(-0.5 * z * z) + (ms > 20 ? 400 / ms : 0));
    if (n > 0) buckets.push([Number(ms.toFixed(3)), n]);
    published += n;
  }
  const duplicates = options.failing ? 37 : 0;
  const lost = options.failing ? 12 : 0;
  const loss: Counterexample[] = [];
  for (let i = 0; i < lost; i++) {
    loss.push({
      device: i === 0 ? HOSTILE_DEVICE : `dev-${17 + i * 31}`,
      message: 42 + i * 7,
      expected: "delivered at least once (QoS 1)",
      observed: i === 0 ? HOSTILE_OBSERVED : "never delivered; the device had it acknowledged before the restart",
    });
  }
  const verdicts = [
    {
      name: "qos1-no-loss",
      pass: !options.failing,
      detail: options.failing
        ? `${lost} of ${published.toLocaleString("en-US")} QoS 1 messages never arrived`
        : `all ${published.toLocaleString("en-US")} QoS 1 messages arrived`,
      counterexamples: loss,
    },
    {
      name: "qos2-no-duplicates",
      pass: !options.failing,
      detail: options.failing ? `${duplicates} QoS 2 messages delivered twice` : "no QoS 2 message delivered twice",
      counterexamples: options.failing
        ? [{ device: "dev-404", message: 9, expected: "exactly once", observed: "twice, 212 ms apart" }]
        : [],
    },
    { name: "order-per-device", pass: true, detail: `order kept on all ${options.devices} devices`, counterexamples: [] },
    {
      name: "will-on-abrupt-close",
      pass: true,
      detail: "wills for 25 of 25 killed devices, none for 25 clean disconnects, all within 1.5 x keep-alive",
      counterexamples: [],
    },
    {
      name: "silent-device-dropped",
      pass: !options.failing,
      detail: options.failing ? "1 of 10 silent devices still connected after 1.5 x keep-alive + 5 s" : "10 of 10 silent devices dropped in time",
      counterexamples: options.failing
        ? [{ device: "dev-12", message: -1, expected: "dropped by 50.0 s", observed: "still connected at 61.0 s" }]
        : [],
    },
  ];
  return {
    starling: "0.1.0",
    config: {
      brokers: [],
      assign: "round-robin",
      shard: { index: 0, count: 1 },
      processes: 1,
      sourceIps: [],
      devices: options.devices,
      scenario: "mixed",
      qos: 1,
      rate,
      payload: 64,
      duration,
      ramp,
      seed: options.seed,
      protocol: 5,
      keepAliveGrace: 6,
      keepAlive: 20,
      username: options.failing ? "fleet" : null,
      password: options.failing ? "***" : null,
      clientId: "dev-{i}",
      topic: "fleet/{id}/telemetry",
      report: "run.html",
      faultNoResend: options.failing, faultStallMs: 0,
      latencyMs: 0,
      jitterMs: 0,
      brokerRestartCommand: null, startAt: null,
    },
    brokerUrl: options.failing ? `mqtt://127.0.0.1:1883/?q="><script>alert(3)</script>` : "mqtt://127.0.0.1:41883",
    startedAt: "2025-06-01T12:00:00.000Z",
    seconds: ramp + duration + 0.4,
    counts: {
      devices: options.devices,
      connected: options.devices,
      published,
      received: published - lost + duplicates,
      duplicates,
      reconnects: options.failing ? Math.round(options.devices * 0.97) : 0,
      errors: errorsSoFar,
    },
    slices: [{ first: 0, end: options.devices }],
    firstErrors: [],
    latencyMs: { count: published, p50: 4.02, p99: 19.6, p999: 61.3, max: 388.5, buckets, histogram: "" },
    memory: { processes: 1, rssBytes: 60e6 + options.devices * 9000, baselineBytes: 60e6, pssBytes: 40e6 + options.devices * 9000 },
    loopDelayMs: options.failing ? { p99: 41, max: 2300 } : { p99: 3, max: 12 },
    connects: { count: options.devices, firstAttemptAt: 1748779200000, lastConnectedAt: 1748779200000 + ramp * 1000 },
    verdicts: verdicts.map((v) => ({ ...v, what: v.name, checked: options.devices, failures: v.pass ? 0 : 1 })),
    samples,
    pass: !options.failing,
  };
}

const passing = makeReport({ seed: 7, devices: 1000, failing: false });
const failing = makeReport({ seed: 42, devices: 2500, failing: true });

/** A run that never got going: the broker refused every device, so there is nothing to chart. */
function emptyReport(): Report {
  const report = makeReport({ seed: 1, devices: 10, failing: false });
  report.samples = [];
  report.latencyMs = { count: 0, p50: 0, p99: 0, p999: 0, max: 0, buckets: [], histogram: "" };
  report.counts = { devices: 10, connected: 0, published: 0, received: 0, duplicates: 0, reconnects: 0, errors: 10 };
  report.connects = { count: 0, firstAttemptAt: 1748779200000, lastConnectedAt: 0 };
  report.verdicts = [{
    name: "connect",
    pass: false,
    what: "every device connected",
    checked: 10,
    failures: 10,
    detail: "0 of 10 devices connected",
    counterexamples: [{ device: "dev-0", message: -1, expected: "CONNACK 0", observed: "CONNACK 5 (not authorized)" }],
  }];
  report.pass = false;
  return report;
}

const directory = temporaryDirectory("starling-report-");

describe("renderText", () => {
  it("ends a passing run with 'verdict: PASS' and lists every verdict", () => {
    const text = renderText(passing, false);
    const lines = text.trimEnd().split("\n");
    expect(lines.at(-1)).toBe("verdict: PASS");
    for (const verdict of passing.verdicts) {
      expect(text).toMatch(new RegExp(`^${verdict.name} +PASS +${verdict.detail.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
    }
    expect(text).not.toContain("expected");
    expect(text).not.toContain("\u001b");
  });

  it("ends a failing run with the count of failed verdicts and shows the first counterexamples", () => {
    const text = renderText(failing, false);
    const lines = text.trimEnd().split("\n");
    expect(lines.at(-1)).toBe("verdict: FAIL (3 of 5 verdicts failed)");
    expect(text).toContain("    device dev-48, message 49: expected delivered at least once (QoS 1), observed never delivered; the device had it acknowledged before the restart");
    expect(text).toContain(`    device ${HOSTILE_DEVICE}, message 42: expected delivered at least once (QoS 1), observed ${HOSTILE_OBSERVED}`);
    expect(text).toContain("    device dev-12: expected dropped by 50.0 s, observed still connected at 61.0 s");
    // 12 counterexamples: five shown, the rest counted, and where they all are.
    expect(failing.config.report).toBe("run.html");
    expect(text).toContain("    ... and 7 more counterexamples (all are in run.html)");
    expect(renderText(failing, false, null)).toContain("    ... and 7 more counterexamples (write --report FILE.json to keep them all)");
    expect(text).not.toContain("dev-172,");
    // The counterexamples sit under their own verdict.
    const order = ["qos1-no-loss", "device dev-48", "qos2-no-duplicates", "device dev-404, message 9", "order-per-device"]
      .map((needle) => text.indexOf(needle));
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it("aligns the verdict table and the counts, and prints latency in ms", () => {
    const text = renderText(failing, false);
    const rows = text.split("\n").filter((line) => /^[a-z0-9-]+ +(PASS|FAIL) /.test(line));
    expect(rows).toHaveLength(5);
    const resultColumns = new Set(rows.map((row) => row.search(/(PASS|FAIL)/)));
    const detailColumns = new Set(rows.map((row) => row.search(/(PASS|FAIL) +\S/) + 8));
    expect(resultColumns.size).toBe(1);
    expect(detailColumns.size).toBe(1);
    const countRows = text.split("\n").filter((line) => /^ {2}(devices|connected|published|received|duplicates|reconnects|errors) +[\d,]+$/.test(line));
    expect(countRows).toHaveLength(7);
    expect(new Set(countRows.map((row) => row.length)).size).toBe(1);
    expect(countRows).toContain(`  published  ${failing.counts.published.toLocaleString("en-US")}`);
    expect(text).toMatch(/latency \(ms, over [\d,]+ messages\)\n +p50 +p99 +p99\.9 +max\n +4\.02 +19\.6 +61\.3 +389\n/);
  });

  it("says how late the simulator's own event loop ran, and warns with what to change when it stalled", () => {
    const calm = renderText(passing, false);
    expect(calm).toMatch(/^ {2}stalls +the simulator's event loop ran up to 12\.0 ms late \(p99 3\.00 ms; the worst device process\)$/m);
    expect(calm).not.toContain("warning:");
    const stalled = renderText(failing, false).trimEnd().split("\n");
    const warning = stalled.findIndex((line) => line.startsWith("warning: "));
    expect(stalled[warning]).toContain("the simulator itself stalled for up to 2.3 s");
    expect(stalled[warning]).toContain("fewer --devices or a lower --rate per core");
    // Above the verdict line, which stays the last.
    expect(warning).toBe(stalled.length - 3);
    expect(stalled.at(-1)).toBe("verdict: FAIL (3 of 5 verdicts failed)");
    // Just below the threshold: the figure, no warning; a report from before it was measured: neither.
    const below = structuredClone(failing);
    below.loopDelayMs = { p99: 41, max: STALL_WARNING_MS - 1 };
    expect(renderText(below, false)).not.toContain("warning:");
    const older = structuredClone(failing) as Partial<Report>;
    delete older.loopDelayMs;
    expect(renderText(older as Report, false)).not.toMatch(/stall/);
    expect(renderHtml(failing)).toContain(`<p class="warning">warning: the simulator itself stalled for up to 2.3 s`);
    expect(renderHtml(passing)).not.toContain(`class="warning"`);
  });

  it("says so when no latency was measured, and when no device connected", () => {
    const text = renderText(emptyReport(), false);
    expect(text).toContain("latency (ms)\n  no messages measured\n");
    expect(text).toMatch(/^ {2}connects +no device connected$/m);
    expect(text.trimEnd().split("\n").at(-1)).toBe("verdict: FAIL (1 of 1 verdicts failed)");
  });

  it("lists as many first errors as its heading says, and where the rest are kept", () => {
    const report = structuredClone(failing);
    report.counts.errors = 268;
    report.firstErrors = Array.from({ length: 20 }, (_, i) => `dev-${i}: ERR_LINK_LOST`);
    for (const [file, kept] of [["run.json", "the first 20 are in run.json"], [null, "write --report FILE.json to keep the first 20"]] as const) {
      const lines = renderText(report, false, file).split("\n");
      const heading = lines.findIndex((line) => line.startsWith("first errors"));
      const listed = /^first errors \((\d+) of 268 listed; (.*)\)$/.exec(lines[heading]);
      expect(listed, lines[heading]).not.toBeNull();
      expect(listed![2]).toBe(kept);
      const shown = lines.slice(heading + 1, lines.indexOf("", heading));
      expect(shown).toHaveLength(Number(listed![1]));
      expect(shown).toEqual(report.firstErrors.slice(0, shown.length).map((error) => `  ${error}`));
    }
    // All of them listed: nothing more to say.
    report.firstErrors = report.firstErrors.slice(0, 3);
    report.counts.errors = 3;
    expect(renderText(report, false)).toContain("first errors (3 of 3 listed)\n");
  });

  it("says which QoS the devices publish at, as the run plans it", () => {
    for (const scenario of ["mixed", "qos", "telemetry"] as const) {
      const report = structuredClone(passing);
      Object.assign(report.config, { scenario, qos: 2, devices: 300 });
      const planned = planFleet({ ...report.config, brokers: [] }).map((plan) => plan.qos);
      const levels = [...new Set(planned)].sort();
      const traffic = /^ {2}traffic +MQTT [\d.]+, (.*), [\d.]+ msg\/s per device/m.exec(renderText(report, false));
      expect(traffic, scenario).not.toBeNull();
      if (levels.length === 1) {
        expect(traffic![1]).toBe(`QoS ${levels[0]}`);
      } else {
        expect(traffic![1]).toBe(`QoS ${levels.slice(0, -1).join(", ")} and ${levels.at(-1)} (a third of the devices each)`);
        for (const level of levels) expect(planned.filter((qos) => qos === level)).toHaveLength(planned.length / 3);
      }
      expect(renderHtml(report)).toContain(`<dt>traffic</dt><dd>${traffic![1]}, `);
    }
  });

  it("colours only when asked, and never lets run data drive the terminal", () => {
    const coloured = renderText(failing, true);
    expect(coloured).toContain("\u001b[1;31mFAIL");
    expect(coloured.trimEnd().split("\n").at(-1)).toBe("\u001b[1;31mverdict: FAIL (3 of 5 verdicts failed)\u001b[0m");
    const sneaky = structuredClone(failing);
    sneaky.verdicts[0].detail = "line one\nverdict: PASS\u001b[2J";
    const plain = renderText(sneaky, false);
    expect(plain).not.toContain("\u001b");
    expect(plain).toContain("line one\\x0averdict: PASS\\x1b[2J");
    expect(plain.split("\n").filter((line) => line.startsWith("verdict:"))).toEqual(["verdict: FAIL (3 of 5 verdicts failed)"]);
  });
});

describe("writeReport", () => {
  it("writes pretty JSON that reads back as the same report", () => {
    const file = path.join(directory(), "run.json");
    writeReport(failing, file);
    const text = fs.readFileSync(file, "utf8");
    expect(text.split("\n").length).toBeGreaterThan(100);
    expect(text.startsWith('{\n  "starling": "0.1.0",')).toBe(true);
    expect(JSON.parse(text)).toEqual(failing);
  });

  it("writes the HTML page for .html", () => {
    const file = path.join(directory(), "run.html");
    writeReport(passing, file);
    expect(fs.readFileSync(file, "utf8")).toBe(renderHtml(passing));
  });

  it("rejects any other extension, naming the accepted ones, and writes nothing", () => {
    for (const name of ["run.txt", "run", "run.json.gz", "run.htm"]) {
      const file = path.join(directory(), name);
      expect(() => writeReport(passing, file)).toThrow(/must end in \.json or \.html/);
      expect(fs.existsSync(file)).toBe(false);
    }
  });
});

describe("renderHtml", () => {
  it("is one self-contained page with every hostile string escaped", () => {
    const html = renderHtml(failing);
    expect(html).not.toMatch(/<(link|img|iframe)\b/i);
    expect(html).not.toMatch(/<script[^>]*\ssrc=/i);
    expect(html).not.toContain(HOSTILE_DEVICE);
    expect(html).not.toContain("<script>alert");
    expect(html).toContain("&#60;img src=x onerror=alert(1)&#62;");
    // Exactly the three scripts the page brings: the data, uPlot, the charts.
    expect(html.match(/<script\b/gi)).toHaveLength(3);
    for (const id of ["chart-connected", "chart-throughput", "chart-latency"]) expect(html).toContain(`id="${id}"`);
  });
});

const CHART_COLOURS: Record<string, [number, number, number]> = {
  "chart-connected": [9, 105, 218],
  "chart-throughput": [130, 80, 223],
  "chart-latency": [212, 167, 44],
};

// Runs in the page (the project's TypeScript has no DOM library, so it is passed as a string).
const MEASURE_CHARTS = `(() => {
  const colours = ${JSON.stringify(CHART_COLOURS)};
  return Object.keys(colours).map((id) => {
    const [r, g, b] = colours[id];
    let pixels = 0, opaque = 0, series = 0;
    const canvases = document.querySelectorAll("#" + id + " canvas");
    for (const canvas of canvases) {
      const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      pixels += canvas.width * canvas.height;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] === 0) continue;
        opaque++;
        if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 60) series++;
      }
    }
    return { id, canvases: canvases.length, pixels, opaque, series };
  });
})()`;

const available = peerAvailable("chromium", "apt-get install chromium");

describe.skipIf(!available)("the HTML page in headless Chromium", () => {
  let browser: Browser;
  // Screenshots go to STARLING_SCREENSHOTS when set (to look at them), else to the test's temporary directory.
  const screenshots = process.env.STARLING_SCREENSHOTS;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("draws empty charts, without errors, for a run with nothing to chart", async () => {
    const file = path.join(directory(), "empty.html");
    writeReport(emptyReport(), file);
    await checkReportPage(browser, file, async ({ page, errors }) => {
      expect(await page.evaluate(`document.querySelectorAll(".chart canvas").length`)).toBe(3);
      expect(errors).toEqual([]);
    });
  });

  it.each([["passing", passing], ["failing", failing]] as const)("draws the %s run's three charts, offline, with hostile strings as text", async (name, report) => {
    const file = path.join(directory(), `${name}.html`);
    writeReport(report, file);
    await checkReportPage(browser, file, async ({ page, errors, requests, dialogs }) => {
      const charts = await page.evaluate(MEASURE_CHARTS) as { id: string; canvases: number; pixels: number; opaque: number; series: number }[];
      expect(charts.map((chart) => chart.id)).toEqual(Object.keys(CHART_COLOURS));
      for (const chart of charts) {
        expect(chart.canvases, chart.id).toBe(1);
        expect(chart.pixels, chart.id).toBeGreaterThan(200_000);
        // Axes, grid and labels alone are a few thousand pixels; the series' own colour proves data was drawn.
        expect(chart.opaque, chart.id).toBeGreaterThan(5_000);
        expect(chart.series, chart.id).toBeGreaterThan(2_000);
      }

      const page_ = await page.evaluate(`({
        images: document.querySelectorAll("img").length,
        scripts: document.querySelectorAll("script").length,
        text: document.body.innerText,
        failed: document.body.dataset.chartsFailed || null,
        banner: document.querySelector("header.banner h1").textContent,
      })`) as { images: number; scripts: number; text: string; failed: string | null; banner: string };
      expect(page_.images).toBe(0);
      expect(page_.scripts).toBe(3);
      expect(page_.failed).toBeNull();
      if (report.pass) {
        expect(page_.banner).toBe("PASS");
      } else {
        expect(page_.banner).toBe("FAIL (3 of 5 verdicts failed)");
        expect(page_.text).toContain(`device ${HOSTILE_DEVICE}, message 42`);
        expect(page_.text).toContain(HOSTILE_OBSERVED);
        expect(page_.text).toContain(report.brokerUrl);
      }

      const shot = path.join(screenshots ?? directory(), `starling-report-${name}.png`);
      if (screenshots) fs.mkdirSync(screenshots, { recursive: true });
      await page.screenshot({ path: shot, fullPage: true });
      expect(fs.statSync(shot).size).toBeGreaterThan(10_000);

      expect(requests).toEqual([]);
      expect(errors).toEqual([]);
      expect(dialogs).toEqual([]);
    }, { deviceScaleFactor: 1, consoleErrors: true });
  });
});
