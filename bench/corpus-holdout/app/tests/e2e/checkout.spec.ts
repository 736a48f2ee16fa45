import { expect, test } from "@playwright/test";

test.describe("checkout", () => {
  test("charges one booking fee per order", async ({ page }) => {
    await page.goto("/?view=checkout");
    await expect(page.locator("#order-total")).toHaveText("Total: £80.50");
  });

  test("confirms the booking", async ({ page }) => {
    await page.goto("/?view=checkout");
    await page.getByRole("button", { name: "Confirm booking" }).click();
    await page.getByText("Booking confirmed", { exact: true }).click({ timeout: 1500 });
  });
});
