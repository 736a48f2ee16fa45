import { expect, test } from "@playwright/test";

for (const order of ["1001", "2002"]) {
  test(`refunds order ${order} in EUR`, async ({ page }) => {
    const pageErrors: Error[] = [];
    page.on("pageerror", (error) => pageErrors.push(error));
    await page.goto("/?page=orders");
    await page.getByRole("button", { name: `Refund ${order}` }).click();
    await page.waitForTimeout(300);
    if (pageErrors.length) throw pageErrors[0];
    await expect(page.getByRole("status")).toHaveText("Refund requested");
  });
}

test("shows a completed refund", async ({ page }) => {
  await page.goto("/?page=order&id=3003");
  await expect(page.locator("#refund")).toHaveText("Refunded 12.00 EUR");
});
