import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's `chromium` package (.ci/run installs it), driven by playwright-core. */
export const CHROMIUM = '/usr/bin/chromium';
const ROOT = resolve(__dirname, '../..');
export const SCREENSHOTS = join(ROOT, 'test-results/screenshots');

/** Why the browser suites cannot run here, or undefined. With CI=true a missing browser fails the run. */
export function browserUnavailable(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const why = `${CHROMIUM} is missing: apt-get install -y chromium (as .ci/run does)`;
  if (process.env.CI === 'true') throw new Error(why);
  return why;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox', // CI runs as root
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** The console is served from dist/console; build it when a developer runs this suite alone. */
export function ensureConsoleBuilt(): void {
  if (!existsSync(join(ROOT, 'dist/console/index.html')) || !existsSync(join(ROOT, 'dist/apps/api/src/main.js'))) {
    execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  }
}

export const LAPTOP = { width: 1366, height: 900 };
export const TABLET = { width: 820, height: 1180 };

/** A fresh browser profile (its own localStorage, so its own signed-in user) that fails on page errors. */
export async function newContext(browser: Browser, viewport = LAPTOP): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return { context, page, errors };
}

const taken: string[] = [];

/** A full-page screenshot in test-results/screenshots/, named in the order taken. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${String(taken.length + 1).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  taken.push(path);
  return path;
}

/** Printed at the end, so a CI log shows where the pictures are. */
export function printScreenshots(): void {
  if (taken.length === 0) return;
  process.stdout.write(`\nScreenshots (${taken.length}):\n${taken.map((p) => `  ${relative(ROOT, p)}`).join('\n')}\n`);
}
