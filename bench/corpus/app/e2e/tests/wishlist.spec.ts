import { expect, test } from "@playwright/test";

test("shows the saved items", async ({ page }) => {
  const pageErrors: Error[] = [];
  page.on("pageerror", (error) => pageErrors.push(error));
  await page.goto("/?page=wishlist");
  await page.waitForTimeout(300);
  if (pageErrors.length) throw pageErrors[0];
  await expect(page.getByRole("status")).toHaveText("1 saved item");
});
