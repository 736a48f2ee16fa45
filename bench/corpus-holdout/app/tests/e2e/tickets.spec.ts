import { expect, test } from "@playwright/test";

test("shows my e-ticket", async ({ page }) => {
  const errors: Error[] = [];
  page.on("pageerror", (error) => errors.push(error));
  await page.goto("/?view=ticket");
  await expect(page.getByText("Row B, seat 4")).toBeVisible();
  await page.waitForTimeout(200);
  expect(errors, errors.map((e) => e.stack).join("\n")).toHaveLength(0);
});
