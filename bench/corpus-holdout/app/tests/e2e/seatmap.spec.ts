import { expect, test } from "@playwright/test";

for (const locale of ["en-GB", "de-DE"]) {
  test(`draws the hall B seat map [${locale}]`, async ({ page }) => {
    const errors: Error[] = [];
    page.on("pageerror", (error) => errors.push(error));
    await page.goto(`/?view=venue&venue=hall-b&locale=${locale}`);
    await page.waitForTimeout(300);
    if (errors.length) throw errors[0];
    await expect(page.locator("#seats")).toBeVisible();
  });
}

test("draws the studio seat map", async ({ page }) => {
  await page.goto("/?view=event&venue=studio");
  await expect(page.locator("#seats")).toContainText("S1 S2");
});
