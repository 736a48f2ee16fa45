import { expect, test } from "@playwright/test";

test.describe("checkout", () => {
  test("shows the order total with shipping", async ({ page }) => {
    await page.goto("/?page=checkout");
    await expect(page.locator("#checkout-total")).toHaveText("Total: €29.20");
  });

  test("places the order and thanks the customer", async ({ page }) => {
    await page.goto("/?page=checkout");
    await page.getByRole("button", { name: "Place order" }).click();
    await page.getByText("Thank you for your order").click();
  });
});
