import { expect, test } from "@playwright/test";

test("adds 2 mugs of coffee", async ({ page }) => {
  await page.goto("/?page=cart");
  await page.getByLabel("Quantity").fill("2");
  await page.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.getByText("2 x in cart")).toBeVisible();
});

test("adds 2.5 kg of loose beans", async ({ page }) => {
  await page.goto("/?page=cart");
  await page.locator("select[name=sku]").selectOption("BEANS-LOOSE");
  await page.getByLabel("Quantity").fill("2.5");
  await page.getByRole("button", { name: "Add to cart" }).click();
  // Whatever the shop answers first: the cart line, or the error in the status line.
  await expect(page.locator("#cart-summary:not(:empty), #status:not(:empty)")).toHaveText("2.5 kg in cart");
});
