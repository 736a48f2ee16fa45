import { defineConfig, devices } from "@playwright/test";

// The box office's end-to-end tests. The browser is the system's Chromium (no download).
const chromium = {
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
  ],
};

export default defineConfig({
  testDir: "./tests/e2e",
  timeout: 8_000,
  expect: { timeout: 2_000 },
  retries: 1,
  workers: 2,
  reporter: [
    ["json", { outputFile: process.env.PW_JSON_OUTPUT || "test-results/report.json" }],
    ["junit", { outputFile: process.env.PW_JUNIT_OUTPUT || "test-results/junit.xml" }],
  ],
  use: {
    baseURL: process.env.BOXOFFICE_URL || "http://127.0.0.1:8000",
    launchOptions: chromium,
    trace: "off",
    screenshot: "off",
  },
  projects: [
    { name: "desktop", use: { ...devices["Desktop Chrome"], channel: undefined } },
    { name: "mobile", use: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true } },
  ],
});
