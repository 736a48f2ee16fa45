import { expect, test } from "@playwright/test";

test("lists the products with prices", async ({ page }) => {
  await page.goto("/?page=catalog");
  await expect(page.locator("#products li")).toHaveCount(4);
  await expect(page.getByText("Green tea €6.50")).toBeVisible();
});
