// For the suites that write run reports and open the HTML page in headless Chromium (simulator/fleet and
// simulator/report): a temporary directory for the files, Debian's Chromium through playwright-core, and a
// report page opened, watched and closed around the checks.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll } from "vitest";
import { chromium, type Browser, type Page } from "playwright-core";
import { findProgram } from "./peers";

/**
 * A fresh directory under the system's temporary one for this file's tests, made before them and removed
 * after them; the returned function gives its path (from beforeAll on).
 */
export function temporaryDirectory(prefix: string): () => string {
  let directory: string | undefined;
  beforeAll(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterAll(() => {
    if (directory !== undefined) fs.rmSync(directory, { recursive: true, force: true });
  });
  return () => {
    if (directory === undefined) throw new Error(`the ${prefix} directory is made in beforeAll: ask for it in a test or a hook`);
    return directory;
  };
}

/** Headless Chromium: Debian's /usr/bin/chromium, or wherever PATH has it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: findProgram("chromium") ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** A report page open in Chromium, and what it did since it was opened. */
export interface ReportPage {
  page: Page;
  /** The page's own file:// URL. */
  url: string;
  /** Uncaught errors in the page; with `consoleErrors`, the console's errors as well. */
  errors: string[];
  /** Every URL the page requested besides its own. */
  requests: string[];
  /** The messages of the dialogs the page opened (each dismissed). */
  dialogs: string[];
}

/**
 * Opens the report page `file` in a new 1280x900 tab, waits until its three charts are drawn, runs `check`
 * on it, and closes the tab, whatever happened.
 */
export async function checkReportPage(browser: Browser, file: string, check: (opened: ReportPage) => Promise<void>,
  options: { deviceScaleFactor?: number; consoleErrors?: boolean } = {}): Promise<void> {
  const url = pathToFileURL(file).href;
  const page = await browser.newPage({
    viewport: { width: 1280, height: 900 },
    ...(options.deviceScaleFactor !== undefined ? { deviceScaleFactor: options.deviceScaleFactor } : {}),
  });
  const opened: ReportPage = { page, url, errors: [], requests: [], dialogs: [] };
  page.on("request", (request) => {
    if (request.url() !== url) opened.requests.push(request.url());
  });
  page.on("pageerror", (error) => opened.errors.push(error.message));
  if (options.consoleErrors === true) {
    page.on("console", (message) => {
      if (message.type() === "error") opened.errors.push(message.text());
    });
  }
  page.on("dialog", (dialog) => {
    opened.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  try {
    await page.goto(url, { waitUntil: "load" });
    await page.waitForSelector('body[data-charts-rendered="3"]', { state: "attached", timeout: 15_000 });
    await check(opened);
  } finally {
    await page.close();
  }
}
