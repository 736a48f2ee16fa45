// Production browser traffic for the triage corpus: real Chromium, real @sentry/browser.
// Usage: node browse.mjs BASE_URL PLAN.json  (PLAN: [{path, click?}] visited in order)
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const [baseUrl, planFile] = process.argv.slice(2);
const plan = JSON.parse(readFileSync(planFile, "utf8"));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
  ],
});
const context = await browser.newContext();
for (const visit of plan) {
  const page = await context.newPage();
  await page.goto(baseUrl + visit.path);
  if (visit.click) {
    await page.getByRole("button", { name: visit.click }).click();
  }
  await page.waitForTimeout(250);
  // Send what the SDK queued before the page goes away.
  await page.evaluate(() => (window.Sentry ? window.Sentry.flush(3000) : true));
  await page.close();
}
await browser.close();
