import { expect, test } from "@playwright/test";

test.describe("coupons", () => {
  test("applies WELCOME10 to the cart", async ({ page }) => {
    await page.goto("/?page=cart");
    await page.getByRole("button", { name: "Add to cart" }).click();
    await expect(page.getByText("1 x in cart")).toBeVisible();
    await page.getByLabel("Coupon code").fill("welcome10");
    await page.getByRole("button", { name: "Apply coupon" }).click();
    await expect(page.locator("#total")).toHaveText("Total: €8.01");
  });

  for (const code of ["ACME-7", "BETA-22"]) {
    test(`rejects unknown coupon ${code}`, async ({ page }) => {
      await page.goto("/?page=cart");
      await page.getByRole("button", { name: "Add to cart" }).click();
      await expect(page.getByText("1 x in cart")).toBeVisible();
      await page.getByLabel("Coupon code").fill(code);
      await page.getByRole("button", { name: "Apply coupon" }).click();
      await expect(page.getByRole("status")).toHaveText(`Coupon ${code} is not valid`);
    });
  }
});
